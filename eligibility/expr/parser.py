"""Recursive-descent parser: expression text → :mod:`eligibility.expr.nodes` tree.

Grammar (lowest precedence first)::

    expr       := "if" expr "then" expr "else" expr | or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := additive [("==" | "!=" | "<" | "<=" | ">" | ">=") additive
                            | ["not"] "in" additive]
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := INT | DECIMAL | STRING | "true" | "false" | "(" expr ")" | "[" items "]"
                | AGG "(" NAME ["." NAME] ["where" expr] ")"      # exists count sum min max avg
                | NAME "(" [expr ("," expr)*] ")"                   # function call
                | NAME ("." NAME)*                                   # field, param.x, table.out
                | "if" ...                                          # as an operand too

Nesting (parentheses, brackets, calls, prefix operators) and tree height are bounded, so no
input can exhaust the stack; this module never evaluates anything.
"""

from __future__ import annotations

from eligibility.expr.errors import MAX_DEPTH, MAX_LIST_ITEMS, ExprError, Pos
from eligibility.expr.lexer import Tok, Token, tokenize
from eligibility.expr.nodes import (
    AGGREGATES,
    Aggregate,
    Binary,
    Call,
    IfElse,
    ListLit,
    Literal,
    Membership,
    Name,
    Node,
    Unary,
)

MAX_TREE_HEIGHT = 64
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def at(self, text: str, kind: Tok | None = None) -> bool:
        tok = self.tok
        return tok.text == text and tok.kind in ((kind,) if kind else (Tok.OP, Tok.KEYWORD))

    def take(self) -> Token:
        tok = self.tok
        if tok.kind is not Tok.END:
            self.i += 1
        return tok

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise ExprError(f"expected {text!r}, found {self._describe(self.tok)}", self.tok.pos)
        return self.take()

    @staticmethod
    def _describe(tok: Token) -> str:
        return "end of expression" if tok.kind is Tok.END else repr(tok.text)

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression nested deeper than {MAX_DEPTH} levels", tok.pos)

    def leave(self) -> None:
        self.depth -= 1

    @property
    def last_end(self) -> int:
        return self.tokens[self.i - 1].end if self.i else 0

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> Node:
        node = self.expr()
        if self.tok.kind is not Tok.END:
            raise ExprError(f"unexpected {self._describe(self.tok)}", self.tok.pos)
        _check_height(node)
        return node

    def expr(self) -> Node:
        first = self.tok
        if self.at("if", Tok.KEYWORD):
            self.enter(first)
            self.take()
            condition = self.expr()
            self.expect("then")
            then = self.expr()
            self.expect("else")
            otherwise = self.expr()
            self.leave()
            return IfElse(
                first.pos,
                first.start,
                self.last_end,
                condition=condition,
                then=then,
                otherwise=otherwise,
            )
        return self.or_expr()

    def _chain(self, ops: frozenset[str], operand: str) -> Node:
        parse_operand = getattr(self, operand)
        first = self.tok
        node: Node = parse_operand()
        while self.tok.text in ops and self.tok.kind in (Tok.OP, Tok.KEYWORD):
            op = self.take().text
            right = parse_operand()
            node = Binary(first.pos, first.start, self.last_end, op=op, left=node, right=right)
        return node

    def or_expr(self) -> Node:
        return self._chain(frozenset({"or"}), "and_expr")

    def and_expr(self) -> Node:
        return self._chain(frozenset({"and"}), "not_expr")

    def not_expr(self) -> Node:
        first = self.tok
        if self.at("not", Tok.KEYWORD):
            self.enter(first)
            self.take()
            operand = self.not_expr()
            self.leave()
            return Unary(first.pos, first.start, self.last_end, op="not", operand=operand)
        return self.comparison()

    def comparison(self) -> Node:
        first = self.tok
        left = self.additive()
        tok = self.tok
        if tok.kind is Tok.OP and tok.text in COMPARISONS:
            op = self.take().text
            right = self.additive()
            node: Node = Binary(
                first.pos, first.start, self.last_end, op=op, left=left, right=right
            )
        elif self.at("in", Tok.KEYWORD) or (
            self.at("not", Tok.KEYWORD) and self.tokens[self.i + 1].text == "in"
        ):
            negated = self.take().text == "not"
            if negated:
                self.take()
            options = self.additive()
            node = Membership(
                first.pos, first.start, self.last_end, value=left, options=options, negated=negated
            )
        else:
            return left
        if self.tok.kind is Tok.OP and self.tok.text in COMPARISONS:
            raise ExprError("comparisons do not chain; combine them with 'and'", self.tok.pos)
        return node

    def additive(self) -> Node:
        return self._chain(frozenset({"+", "-"}), "term")

    def term(self) -> Node:
        return self._chain(frozenset({"*", "/"}), "unary")

    def unary(self) -> Node:
        first = self.tok
        if self.at("-", Tok.OP):
            self.enter(first)
            self.take()
            operand = self.unary()
            self.leave()
            return Unary(first.pos, first.start, self.last_end, op="-", operand=operand)
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind in (Tok.INT, Tok.DECIMAL, Tok.STRING):
            self.take()
            assert tok.value is not None
            return Literal(tok.pos, tok.start, tok.end, value=tok.value)
        if tok.kind is Tok.KEYWORD and tok.text in ("true", "false"):
            self.take()
            return Literal(tok.pos, tok.start, tok.end, value=tok.text == "true")
        if self.at("(", Tok.OP):
            self.enter(tok)
            self.take()
            inner = self.expr()
            self.expect(")")
            self.leave()
            return inner
        if self.at("[", Tok.OP):
            return self.list_literal()
        if self.at("if", Tok.KEYWORD):  # an if-expression as an operand: 1 + if c then 2 else 3
            return self.expr()
        if tok.kind is Tok.NAME:
            return self.name_or_call()
        raise ExprError(f"expected a value, found {self._describe(tok)}", tok.pos)

    def list_literal(self) -> Node:
        first = self.take()
        self.enter(first)
        items: list[Node] = []
        while not self.at("]", Tok.OP):
            if len(items) >= MAX_LIST_ITEMS:
                raise ExprError(f"list longer than {MAX_LIST_ITEMS} items", self.tok.pos)
            items.append(self.expr())
            if not self.at("]", Tok.OP):
                self.expect(",")
        self.take()
        self.leave()
        return ListLit(first.pos, first.start, self.last_end, items=items)

    def name_or_call(self) -> Node:
        first = self.take()
        _check_identifier(first)
        if self.at("(", Tok.OP):
            if first.text in AGGREGATES:
                return self.aggregate(first)
            return self.call(first)
        parts = [first.text]
        while self.at(".", Tok.OP):
            self.take()
            part = self.tok
            if part.kind is not Tok.NAME:
                raise ExprError(
                    f"expected a name after '.', found {self._describe(part)}", part.pos
                )
            _check_identifier(part)
            parts.append(self.take().text)
            if len(parts) > 3:
                raise ExprError("names have at most three parts", part.pos)
        if self.at("(", Tok.OP):
            raise ExprError("only built-in functions can be called", self.tok.pos)
        return Name(first.pos, first.start, self.last_end, parts=tuple(parts))

    def call(self, name: Token) -> Node:
        self.enter(name)
        self.take()  # (
        args: list[Node] = []
        while not self.at(")", Tok.OP):
            if len(args) >= 8:
                raise ExprError("too many arguments", self.tok.pos)
            args.append(self.expr())
            if not self.at(")", Tok.OP):
                self.expect(",")
        self.take()
        self.leave()
        return Call(
            name.pos, name.start, self.last_end, func=name.text, args=args, func_pos=name.pos
        )

    def aggregate(self, name: Token) -> Node:
        self.enter(name)
        self.take()  # (
        relation = self.tok
        if relation.kind is not Tok.NAME:
            raise ExprError(
                f"{name.text}() takes a related dataset, e.g. {name.text}(death_record where ...)",
                relation.pos,
            )
        _check_identifier(relation)
        self.take()
        field_name: str | None = None
        if self.at(".", Tok.OP):
            self.take()
            field_tok = self.tok
            if field_tok.kind is not Tok.NAME:
                raise ExprError("expected a field name after '.'", field_tok.pos)
            _check_identifier(field_tok)
            field_name = self.take().text
        where: Node | None = None
        if self.at("where", Tok.KEYWORD):
            self.take()
            where = self.expr()
        self.expect(")")
        self.leave()
        return Aggregate(
            name.pos,
            name.start,
            self.last_end,
            func=name.text,
            relation=relation.text,
            field=field_name,
            where=where,
            relation_pos=relation.pos,
        )


def _check_identifier(tok: Token) -> None:
    if tok.text.startswith("_"):
        raise ExprError(f"names starting with '_' are reserved: {tok.text!r}", tok.pos)


def _check_height(root: Node) -> None:
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, height = stack.pop()
        if height > MAX_TREE_HEIGHT:
            raise ExprError(f"expression has more than {MAX_TREE_HEIGHT} levels", node.pos)
        stack.extend((child, height + 1) for child in node.children())


def parse(text: str) -> Node:
    """Parse expression text; raises :class:`ExprError` with a position on any problem."""
    if not isinstance(text, str):
        raise ExprError("an expression must be text", Pos(1, 1))
    return Parser(text).parse()
