"""Tokenizer of the expression language: numbers (``70``, ``5.5``, ``5.5%``), strings, names
(ASCII or Chinese), keywords and operators, each with its line and column.

It rejects, with a position, anything outside that alphabet and every literal over the limits in
``errors`` (text length, token count, number magnitude, string length).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from eligibility.expr.errors import (
    MAX_DECIMAL_DIGITS,
    MAX_INT_DIGITS,
    MAX_STRING_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TOKENS,
    ExprError,
    Pos,
)


class Tok(StrEnum):
    INT = "int"
    DECIMAL = "decimal"
    STRING = "string"
    NAME = "name"
    KEYWORD = "keyword"
    OP = "op"
    END = "end"


KEYWORDS = frozenset({"and", "or", "not", "in", "if", "then", "else", "where", "true", "false"})
# Chinese spellings of keywords officers may prefer.
KEYWORD_ALIASES = {"且": "and", "或": "or", "非": "not", "属于": "in"}
OPERATORS = (
    "..",
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
)
FULL_WIDTH = {"(": "(", ")": ")", ",": ",", "【": "[", "】": "]", "%": "%"}


@dataclass(frozen=True)
class Token:
    kind: Tok
    text: str  # normalised text (keyword aliases resolved)
    pos: Pos
    start: int  # offset into the expression text
    end: int
    value: int | Decimal | str | None = None


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z") or _is_cjk(ch)


def _is_name_char(ch: str) -> bool:
    return _is_name_start(ch) or (ch.isascii() and ch.isdigit())


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.line_start = 0

    def pos(self, offset: int | None = None) -> Pos:
        offset = self.i if offset is None else offset
        return Pos(self.line, offset - self.line_start + 1)

    def error(self, message: str, offset: int | None = None) -> ExprError:
        return ExprError(message, self.pos(offset))


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_TEXT_LENGTH:
        raise ExprError(f"expression longer than {MAX_TEXT_LENGTH} characters", Pos(1, 1))
    s = _Scanner(text)
    tokens: list[Token] = []
    while True:
        _skip_space(s)
        if s.i >= len(text):
            tokens.append(Token(Tok.END, "", s.pos(), s.i, s.i))
            return tokens
        if len(tokens) >= MAX_TOKENS:
            raise s.error(f"expression has more than {MAX_TOKENS} tokens")
        tokens.append(_next_token(s))


def _skip_space(s: _Scanner) -> None:
    text = s.text
    while s.i < len(text):
        ch = text[s.i]
        if ch == "\n":
            s.i += 1
            s.line += 1
            s.line_start = s.i
        elif ch in " \t\r\u3000":
            s.i += 1
        elif ch == "#":  # comment to the end of the line
            while s.i < len(text) and text[s.i] != "\n":
                s.i += 1
        else:
            return


def _next_token(s: _Scanner) -> Token:
    text, start = s.text, s.i
    ch = FULL_WIDTH.get(text[start], text[start])
    if ch.isascii() and ch.isdigit():
        return _number(s)
    if ch in "\"'“‘":
        return _string(s)
    if _is_name_start(ch):
        while s.i < len(text) and _is_name_char(text[s.i]):
            s.i += 1
        word = text[start : s.i]
        if word in KEYWORD_ALIASES:
            return Token(Tok.KEYWORD, KEYWORD_ALIASES[word], s.pos(start), start, s.i)
        kind = Tok.KEYWORD if word in KEYWORDS else Tok.NAME
        return Token(kind, word, s.pos(start), start, s.i)
    for op in OPERATORS:
        candidate = "".join(FULL_WIDTH.get(c, c) for c in text[start : start + len(op)])
        if candidate == op:
            s.i += len(op)
            return Token(Tok.OP, op, s.pos(start), start, s.i)
    if ch == "=":
        raise s.error("use '==' to compare ('=' is not an operator)")
    raise s.error(f"unexpected character {text[start]!r}")


def _number(s: _Scanner) -> Token:
    text, start = s.text, s.i
    while s.i < len(text) and ((text[s.i].isascii() and text[s.i].isdigit()) or text[s.i] == "_"):
        s.i += 1
    is_decimal = False
    if (
        s.i + 1 < len(text)
        and text[s.i] == "."
        and text[s.i + 1].isascii()
        and text[s.i + 1].isdigit()
    ):
        is_decimal = True
        s.i += 1
        while s.i < len(text) and text[s.i].isascii() and text[s.i].isdigit():
            s.i += 1
    literal = text[start : s.i].replace("_", "")
    percent = s.i < len(text) and FULL_WIDTH.get(text[s.i], text[s.i]) == "%"
    if s.i < len(text) and _is_name_char(text[s.i]):
        raise s.error(f"malformed number {text[start : s.i + 1]!r}", start)
    digits = len(literal.replace(".", "").lstrip("0"))
    if not is_decimal and not percent:
        if digits > MAX_INT_DIGITS:
            raise s.error(f"number too large (at most {MAX_INT_DIGITS} digits)", start)
        return Token(Tok.INT, literal, s.pos(start), start, s.i, int(literal))
    if digits > MAX_DECIMAL_DIGITS:
        raise s.error(f"number has more than {MAX_DECIMAL_DIGITS} digits", start)
    try:
        value = Decimal(literal)
    except InvalidOperation:
        raise s.error(f"malformed number {literal!r}", start) from None
    if percent:
        s.i += 1
        value = value / 100
    return Token(Tok.DECIMAL, text[start : s.i], s.pos(start), start, s.i, value)


def _string(s: _Scanner) -> Token:
    text, start = s.text, s.i
    closing = {'"': '"', "'": "'", "“": "”", "‘": "’"}[text[start]]
    s.i += 1
    while s.i < len(text) and text[s.i] != closing:
        if text[s.i] in "\n\\":
            raise s.error("strings are single-line and have no escapes", s.i)
        s.i += 1
    if s.i >= len(text):
        raise s.error("unterminated string", start)
    value = text[start + 1 : s.i]
    s.i += 1
    if len(value) > MAX_STRING_LENGTH:
        raise s.error(f"string longer than {MAX_STRING_LENGTH} characters", start)
    return Token(Tok.STRING, text[start : s.i], s.pos(start), start, s.i, value)
