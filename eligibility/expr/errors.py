"""Errors and hard limits of the expression language.

Every problem with user text -- a bad character, an unknown field, a type mismatch, text that is
too long or too deep -- is an :class:`ExprError` carrying a 1-based line and column. Nothing in
the language raises anything else for bad input; callers turn these into validation reports.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TEXT_LENGTH = 4_000  # characters of one expression
MAX_TOKENS = 1_500
MAX_DEPTH = 40  # nesting of parentheses, calls, operators
MAX_STRING_LENGTH = 200
MAX_LIST_ITEMS = 500
MAX_INT_DIGITS = 15  # |n| < 10**15: fen up to ten trillion yuan, never an int64 overflow
MAX_DECIMAL_DIGITS = 18  # significant digits of a decimal literal


@dataclass(frozen=True)
class Pos:
    """1-based line and column of a character, relative to the expression text unless shifted."""

    line: int
    column: int

    def shifted(self, line_offset: int, column_offset: int) -> Pos:
        """Position in an enclosing file: the expression starts at (line_offset, column_offset)."""
        column = self.column + column_offset if self.line == 1 else self.column
        return Pos(self.line + line_offset, column)


class ExprError(Exception):
    """A problem in an expression, with where it is."""

    def __init__(self, message: str, pos: Pos) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos

    def __str__(self) -> str:
        return f"{self.pos.line}:{self.pos.column}: {self.message}"
