"""Polars implementations of the built-in functions (type rules are in ``expr.functions``).

Date rules, documented in ``docs/policy-format.md`` and tested:

- ``age(birth, d)`` counts whole years; the birthday is reached on its day. Someone born on
  29 February reaches a new age on 1 March in a common year (29 Feb in a leap year), the rule of
  several civil codes; ``birthday(birth, n)`` / ``date_of_age(n)`` give that same date, so
  ``age(birth, birthday(birth, n)) == n`` always holds.
- ``months_between(a, b)`` counts whole months: the month is complete when ``b``'s day of month is
  at least ``a``'s (31 Jan → 28 Feb is 0 months, → 1 Mar is 1 month); negative when ``b < a``.
- ``add_months`` clamps to the end of the month (31 Jan + 1 month = 28/29 Feb).
- Money arithmetic rounds half away from zero to whole fen after rounding to nine decimal
  places, so 15 × 30% is 5 fen and not 4 by binary floating point.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from eligibility import workdays
from eligibility.expr.types import Kind, Type

I64 = pl.Int64
DECIMAL_PLACES = 9


def year_of(d: pl.Expr) -> pl.Expr:
    return d.dt.year().cast(I64)


def month_of(d: pl.Expr) -> pl.Expr:
    return d.dt.month().cast(I64)


def day_of(d: pl.Expr) -> pl.Expr:
    return d.dt.day().cast(I64)


def is_leap(year: pl.Expr) -> pl.Expr:
    return ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)


def days_in_month(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    return (
        pl.when(month == 2)
        .then(28 + is_leap(year).cast(I64))
        .otherwise(30 + (month + month.floordiv(8)) % 2)
    )


def from_parts(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 of a valid civil date, in integer arithmetic (H. Hinnant's
    ``days_from_civil``): vectorised, unlike building dates row by row."""
    y = year - (month <= 2).cast(I64)
    era = y.floordiv(400)
    yoe = y - era * 400
    doy = (153 * (month + pl.when(month > 2).then(-3).otherwise(9)) + 2).floordiv(5) + day - 1
    doe = yoe * 365 + yoe.floordiv(4) - yoe.floordiv(100) + doy
    return era * 146097 + doe - 719468


def to_date(days: pl.Expr) -> pl.Expr:
    return days.cast(pl.Int32, strict=False).cast(pl.Date)


def safe_date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """A date from parts, or no value when the parts are not a real date (never an error)."""
    valid = (
        year.is_between(1, 9999)
        & month.is_between(1, 12)
        & day.is_between(1, days_in_month(year, month.clip(1, 12)))
    )
    return pl.when(valid).then(to_date(from_parts(year, month, day)))


def age(birth: pl.Expr, on: pl.Expr) -> pl.Expr:
    years = year_of(on) - year_of(birth)
    before_birthday = (month_of(on) * 100 + day_of(on)) < (month_of(birth) * 100 + day_of(birth))
    return years - before_birthday.cast(I64)


def birthday(birth: pl.Expr, years: pl.Expr) -> pl.Expr:
    year = year_of(birth) + years
    feb29_in_common_year = (month_of(birth) == 2) & (day_of(birth) == 29) & ~is_leap(year)
    month = pl.when(feb29_in_common_year).then(3).otherwise(month_of(birth))
    day = pl.when(feb29_in_common_year).then(1).otherwise(day_of(birth))
    return safe_date(year, month, day)


def months_between(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    total = (year_of(b) - year_of(a)) * 12 + month_of(b) - month_of(a)
    return (
        pl.when((total > 0) & (day_of(b) < day_of(a)))
        .then(total - 1)
        .when((total < 0) & (day_of(b) > day_of(a)))
        .then(total + 1)
        .otherwise(total)
    )


def add_months(d: pl.Expr, n: pl.Expr) -> pl.Expr:
    index = year_of(d) * 12 + month_of(d) - 1 + n
    year, month = index.floordiv(12), index % 12 + 1
    day = pl.min_horizontal(day_of(d), days_in_month(year, month))
    return pl.when(year.is_between(1, 9999)).then(to_date(from_parts(year, month, day)))


# Fast paths for a constant count (a literal or a parameter, the usual case): Polars' own
# calendar offsets, with the same results as the general versions (a test compares them).
MAX_CONSTANT_MONTHS = 100_000
MAX_CONSTANT_DAYS = 3_000_000


def add_months_constant(d: pl.Expr, n: int) -> pl.Expr:
    return d.dt.offset_by(f"{n}mo")


def birthday_constant(birth: pl.Expr, years: int) -> pl.Expr:
    """``offset_by`` clamps 29 Feb to 28 Feb in a common year; the birthday rule says 1 March,
    and only then does the day of the month change."""
    shifted = birth.dt.offset_by(f"{years}y")
    clamped = (shifted.dt.day() != birth.dt.day()).cast(pl.Int32)
    return (shifted.cast(pl.Int32) + clamped).cast(pl.Date)


def add_days_constant(d: pl.Expr, n: int) -> pl.Expr:
    return d.dt.offset_by(f"{n}d")


def add_days(d: pl.Expr, n: pl.Expr) -> pl.Expr:
    days = d.cast(I64) + n
    in_range = days.is_between(-700_000, 2_900_000)
    return pl.when(in_range).then(
        pl.when(in_range).then(days).otherwise(0).cast(pl.Int32).cast(pl.Date)
    )


def period_of(d: pl.Expr) -> pl.Expr:
    return year_of(d) * 12 + month_of(d) - 1


def first_day(p: pl.Expr) -> pl.Expr:
    return safe_date(p.floordiv(12), p % 12 + 1, pl.lit(1, I64))


def round_decimal(x: pl.Expr, mode: str = "half") -> pl.Expr:
    """Round a decimal to an integer; ``mode`` half (away from zero), floor or ceil."""
    x = x.cast(pl.Float64).round(DECIMAL_PLACES)
    if mode == "floor":
        result = x.floor()
    elif mode == "ceil":
        result = x.ceil()
    else:
        result = x.round(0, mode="half_away_from_zero")
    in_range = result.abs() < 9e15
    return pl.when(in_range).then(result).cast(I64)


def _date_arg(types: list[Type], i: int) -> bool:
    return types[i].kind is Kind.DATE


Impl = Callable[[list[pl.Expr], list[Type], pl.Expr | None], pl.Expr]


def _y(args: list[pl.Expr], types: list[Type], _b: pl.Expr | None) -> pl.Expr:
    return year_of(args[0]) if _date_arg(types, 0) else args[0].floordiv(12)


def _m(args: list[pl.Expr], types: list[Type], _b: pl.Expr | None) -> pl.Expr:
    return month_of(args[0]) if _date_arg(types, 0) else args[0] % 12 + 1


def _need_birth(birth: pl.Expr | None) -> pl.Expr:
    assert birth is not None, "checker guarantees a birth_date"
    return birth


IMPLEMENTATIONS: dict[str, Impl] = {
    "age_on": lambda a, _t, b: age(_need_birth(b), a[0]),
    "age": lambda a, _t, _b: age(a[0], a[1]),
    "date_of_age": lambda a, _t, b: birthday(_need_birth(b), a[0]),
    "birthday": lambda a, _t, _b: birthday(a[0], a[1]),
    "months_between": lambda a, _t, _b: months_between(a[0], a[1]),
    "days_between": lambda a, _t, _b: a[1].cast(I64) - a[0].cast(I64),
    "add_days": lambda a, _t, _b: add_days(a[0], a[1]),
    "add_months": lambda a, _t, _b: add_months(a[0], a[1]),
    "add_years": lambda a, _t, _b: add_months(a[0], a[1] * 12),
    "working_days_between": lambda a, _t, _b: workdays.working_days_between(a[0], a[1]),
    "add_working_days": lambda a, _t, _b: workdays.add_working_days(a[0], a[1]),
    "month_start": lambda a, _t, _b: a[0].dt.month_start(),
    "month_end": lambda a, _t, _b: a[0].dt.month_end(),
    "period_of": lambda a, _t, _b: period_of(a[0]),
    "first_day": lambda a, _t, _b: first_day(a[0]),
    "last_day": lambda a, _t, _b: first_day(a[0]).dt.month_end(),
    "year": _y,
    "month": _m,
    "day": lambda a, _t, _b: day_of(a[0]),
    "money": lambda a, _t, _b: round_decimal(a[0]),
    "round": lambda a, _t, _b: round_decimal(a[0]),
    "floor": lambda a, _t, _b: round_decimal(a[0], "floor"),
    "ceil": lambda a, _t, _b: round_decimal(a[0], "ceil"),
    "abs": lambda a, _t, _b: a[0].abs(),
    "present": lambda a, _t, _b: a[0].is_not_null(),
    "starts_with": lambda a, _t, _b: a[0].str.starts_with(a[1]),
}
