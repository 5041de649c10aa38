"""Value types of the expression language and the rules that combine them.

``bool``, ``int``, ``money`` (integer fen), ``decimal`` (ratios, rates; compared at nine decimal
places so ``11 / 200 <= 5.5%`` holds exactly), ``date``, ``period`` (a calendar month),
``string``, ``enum`` (a string with a closed set of values), ``list`` of one of those, and
``periods`` (a set of months such as ``last_months(as_of, 12)``, only usable after ``in``).

Integers widen to money (an integer next to money is fen) and to decimal. Nothing else converts
implicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    BOOL = "bool"
    INT = "int"
    MONEY = "money"
    DECIMAL = "decimal"
    DATE = "date"
    PERIOD = "period"
    STRING = "string"
    ENUM = "enum"
    LIST = "list"
    PERIODS = "periods"


@dataclass(frozen=True)
class Type:
    kind: Kind
    values: tuple[str, ...] = ()  # allowed values of an enum
    elem: Type | None = None  # element type of a list

    def __str__(self) -> str:
        if self.kind is Kind.ENUM and self.values:
            shown = ", ".join(self.values[:6]) + (", …" if len(self.values) > 6 else "")
            return f"enum({shown})"
        if self.kind is Kind.LIST and self.elem is not None:
            return f"list of {self.elem}"
        return self.kind.value

    @property
    def is_numeric(self) -> bool:
        return self.kind in (Kind.INT, Kind.MONEY, Kind.DECIMAL)

    @property
    def is_textual(self) -> bool:
        return self.kind in (Kind.STRING, Kind.ENUM)

    @property
    def is_ordered(self) -> bool:
        return self.is_numeric or self.kind in (Kind.DATE, Kind.PERIOD, Kind.STRING)


BOOL = Type(Kind.BOOL)
INT = Type(Kind.INT)
MONEY = Type(Kind.MONEY)
DECIMAL = Type(Kind.DECIMAL)
DATE = Type(Kind.DATE)
PERIOD = Type(Kind.PERIOD)
STRING = Type(Kind.STRING)
PERIODS = Type(Kind.PERIODS)

BY_NAME: dict[str, Type] = {
    "bool": BOOL,
    "int": INT,
    "money": MONEY,
    "decimal": DECIMAL,
    "date": DATE,
    "period": PERIOD,
    "string": STRING,
}


def enum(values: tuple[str, ...]) -> Type:
    return Type(Kind.ENUM, values=values)


def list_of(elem: Type) -> Type:
    return Type(Kind.LIST, elem=elem)


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two values (if/else branches, list items, coalesce), or ``None``."""
    if a == b:
        return a
    kinds = {a.kind, b.kind}
    if kinds == {Kind.INT, Kind.MONEY}:
        return MONEY
    if kinds == {Kind.INT, Kind.DECIMAL}:
        return DECIMAL
    if a.is_textual and b.is_textual:
        if a.kind is Kind.ENUM and b.kind is Kind.ENUM:
            return enum(tuple(dict.fromkeys(a.values + b.values)))
        return STRING
    return None


def comparable(a: Type, b: Type) -> bool:
    """Whether ``a == b`` / ``a < b`` make sense (enum vs string literal is checked separately)."""
    if a.is_numeric and b.is_numeric:
        return {a.kind, b.kind} != {Kind.MONEY, Kind.DECIMAL}
    if a.is_textual and b.is_textual:
        return True
    return a.kind == b.kind and a.kind in (Kind.DATE, Kind.PERIOD, Kind.BOOL)


def arithmetic(op: str, a: Type, b: Type) -> Type | None:
    """Result type of ``a op b`` for + - * /, or ``None`` when it is not allowed."""
    ka, kb = a.kind, b.kind
    if op in "+-":
        if ka == kb and ka in (Kind.INT, Kind.MONEY, Kind.DECIMAL):
            return a
        if {ka, kb} in ({Kind.INT, Kind.MONEY}, {Kind.INT, Kind.DECIMAL}):
            return MONEY if Kind.MONEY in (ka, kb) else DECIMAL
        if ka is Kind.PERIOD and kb is Kind.INT:
            return PERIOD
        if op == "+" and ka is Kind.INT and kb is Kind.PERIOD:
            return PERIOD
        if op == "-" and ka == kb and ka in (Kind.PERIOD, Kind.DATE):
            return INT  # months between periods, days between dates
        return None
    if op == "*":
        if ka is Kind.INT and kb is Kind.INT:
            return INT
        if {ka, kb} == {Kind.MONEY, Kind.INT} or {ka, kb} == {Kind.MONEY, Kind.DECIMAL}:
            return MONEY  # rounded half away from zero to whole fen
        if a.is_numeric and b.is_numeric and Kind.MONEY not in (ka, kb):
            return DECIMAL
        return None
    if op == "/":
        if ka is Kind.MONEY and kb is Kind.MONEY:
            return DECIMAL
        if ka is Kind.MONEY and kb in (Kind.INT, Kind.DECIMAL):
            return MONEY
        if a.is_numeric and b.is_numeric and Kind.MONEY not in (ka, kb):
            return DECIMAL
        return None
    return None
