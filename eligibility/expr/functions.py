"""Built-in functions: their names (with Chinese aliases), argument types and result types.

Only type rules live here; the Polars implementation of each function is in
``eligibility.builtins``. Aggregates over related records (``exists``, ``count``, ``sum``,
``min``, ``max``, ``avg``) are syntax, checked by ``checker``, not functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eligibility.expr import types as t
from eligibility.expr.types import Kind, Type

ArgKinds = tuple[frozenset[Kind], ...]
D, N, P = frozenset({Kind.DATE}), frozenset({Kind.INT}), frozenset({Kind.PERIOD})
NUM = frozenset({Kind.INT, Kind.DECIMAL, Kind.MONEY})
REAL = frozenset({Kind.INT, Kind.DECIMAL})
STR = frozenset({Kind.STRING, Kind.ENUM})
DATE_OR_PERIOD = D | P
ANY = frozenset(Kind) - {Kind.LIST, Kind.PERIODS}
ORDERED = frozenset({Kind.INT, Kind.DECIMAL, Kind.MONEY, Kind.DATE, Kind.PERIOD, Kind.STRING})


@dataclass(frozen=True)
class Signature:
    args: tuple[ArgKinds, ...]  # accepted overloads: one tuple of accepted kinds per argument
    result: Type | Callable[[list[Type]], Type]
    doc: str
    uses_birth_date: bool = False  # reads the subject's birth_date implicitly
    constant_args: bool = False  # arguments must be literals (checked and folded at compile time)
    variadic: bool = False  # args[0] repeats: two or more arguments of one kind


def _same_as_first(types: list[Type]) -> Type:
    return types[0]


def _unified(types: list[Type]) -> Type:
    result = types[0]
    for other in types[1:]:
        result = t.unify(result, other) or result
    return result


def _money(_types: list[Type]) -> Type:
    return t.MONEY


FUNCTIONS: dict[str, Signature] = {
    "age_on": Signature(((D,),), t.INT, "whole years of the subject's age on a date", True),
    "age": Signature(((D, D),), t.INT, "whole years from a birth date to a date"),
    "date_of_age": Signature(((N,),), t.DATE, "the date the subject reaches an age", True),
    "birthday": Signature(((D, N),), t.DATE, "the date someone born on a date reaches an age"),
    "months_between": Signature(((D, D),), t.INT, "whole months from the first date to the second"),
    "days_between": Signature(((D, D),), t.INT, "days from the first date to the second"),
    "add_days": Signature(((D, N),), t.DATE, "a date plus n days"),
    "add_months": Signature(((D, N),), t.DATE, "a date plus n months (clamped to month end)"),
    "add_years": Signature(((D, N),), t.DATE, "a date plus n years (29 Feb → 28 Feb)"),
    "working_days_between": Signature(
        ((D, D),), t.INT, "working days after the first date up to the second"
    ),
    "add_working_days": Signature(((D, N),), t.DATE, "the n-th working day after a date"),
    "month_start": Signature(((D,),), t.DATE, "first day of the date's month"),
    "month_end": Signature(((D,),), t.DATE, "last day of the date's month"),
    "period_of": Signature(((D,),), t.PERIOD, "the month (period) a date falls in"),
    "first_day": Signature(((P,),), t.DATE, "first day of a period"),
    "last_day": Signature(((P,),), t.DATE, "last day of a period"),
    "year": Signature(((DATE_OR_PERIOD,),), t.INT, "calendar year"),
    "month": Signature(((DATE_OR_PERIOD,),), t.INT, "calendar month 1-12"),
    "day": Signature(((D,),), t.INT, "day of the month"),
    "date": Signature(((STR,), (N, N, N)), t.DATE, 'date("2025-01-01") or date(y, m, d)'),
    "period": Signature(((STR,), (N, N)), t.PERIOD, 'period("2025-01") or period(y, m)'),
    "last_months": Signature(((D, N),), t.PERIODS, "the n whole months before the date's month"),
    "periods_between": Signature(
        ((P, P),), t.PERIODS, "the months from one period to another, inclusive"
    ),
    "yuan": Signature(((REAL,),), _money, "an amount in yuan as money (fen)", constant_args=True),
    "money": Signature(((REAL,),), _money, "a number of fen as money, rounded half away from zero"),
    "round": Signature(((REAL,),), t.INT, "round half away from zero"),
    "floor": Signature(((REAL,),), t.INT, "round down"),
    "ceil": Signature(((REAL,),), t.INT, "round up"),
    "abs": Signature(((NUM,),), _same_as_first, "absolute value"),
    "greatest": Signature(((ORDERED,),), _unified, "the largest of its arguments", variadic=True),
    "least": Signature(((ORDERED,),), _unified, "the smallest of its arguments", variadic=True),
    "present": Signature(((ANY,),), t.BOOL, "the value is known (not missing)"),
    "coalesce": Signature(((ANY, ANY),), _unified, "the first value if known, else the second"),
    "starts_with": Signature(((STR, STR),), t.BOOL, "text starts with a prefix"),
}

FUNCTION_ALIASES = {
    "周岁": "age_on",
    "满周岁日期": "date_of_age",
    "月数": "months_between",
    "工作日数": "working_days_between",
    "元": "yuan",
}
