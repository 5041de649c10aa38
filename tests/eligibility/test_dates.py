"""Date rules of the language: whole-year ages with the leap-day rule, whole months, month-end
clamping, working days with the holiday calendar (调休 included)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.compiler import Bindings, ExprCompiler
from eligibility.expr import Scope, check, parse
from eligibility.views import view
from eligibility.workdays import calendar, read_overrides


def evaluate(text: str, birth: date | None = None, as_of: date = date(2025, 3, 1)) -> object:
    node = parse(text)
    check(node, Scope(view("person")))
    compiler = ExprCompiler(
        Bindings(as_of=as_of, params={}, param_types={}, birth_column="birth_date")
    )
    frame = pl.DataFrame({"birth_date": [birth]}, schema={"birth_date": pl.Date})
    return frame.select(compiler.compile(node).alias("v")).item()


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(1955, 3, 1), date(2025, 3, 1), 70),
        (date(1955, 3, 1), date(2025, 2, 28), 69),
        (date(1956, 2, 29), date(2026, 2, 28), 69),  # common year: not yet
        (date(1956, 2, 29), date(2026, 3, 1), 70),  # ... reached on 1 March
        (date(1956, 2, 29), date(2024, 2, 29), 68),  # leap year: on the day itself
        (date(1956, 2, 29), date(2024, 2, 28), 67),
        (date(2000, 12, 31), date(2001, 12, 30), 0),
    ],
)
def test_age_on_with_leap_day_rule(birth: date, on: date, age: int) -> None:
    assert evaluate(f'age_on(date("{on.isoformat()}"))', birth) == age


@pytest.mark.parametrize(
    ("birth", "years", "reached"),
    [
        (date(1956, 2, 29), 70, date(2026, 3, 1)),
        (date(1956, 2, 29), 72, date(2028, 2, 29)),
        (date(1955, 3, 1), 70, date(2025, 3, 1)),
    ],
)
def test_date_of_age(birth: date, years: int, reached: date) -> None:
    assert evaluate(f"date_of_age({years})", birth) == reached


@given(birth=st.dates(date(1900, 1, 1), date(2030, 12, 31)), years=st.integers(0, 110))
@settings(max_examples=200, deadline=None)
def test_age_is_reached_exactly_on_date_of_age(birth: date, years: int) -> None:
    reached = evaluate(f"date_of_age({years})", birth)
    assert isinstance(reached, date)
    assert evaluate(f'age_on(date("{reached.isoformat()}"))', birth) == years
    before = reached - timedelta(days=1)
    if before >= birth:
        assert evaluate(f'age_on(date("{before.isoformat()}"))', birth) == years - 1


@pytest.mark.parametrize(
    ("a", "b", "months"),
    [
        ("2025-01-31", "2025-02-28", 0),
        ("2025-01-31", "2025-03-01", 1),
        ("2024-09-01", "2025-03-01", 6),
        ("2024-09-02", "2025-03-01", 5),
        ("2025-03-01", "2024-09-01", -6),
        ("2025-03-01", "2024-09-02", -5),
    ],
)
def test_months_between(a: str, b: str, months: int) -> None:
    assert evaluate(f'months_between(date("{a}"), date("{b}"))') == months


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        ("2025-01-31", 1, date(2025, 2, 28)),
        ("2024-01-31", 1, date(2024, 2, 29)),
        ("2024-02-29", 12, date(2025, 2, 28)),
        ("2025-03-15", -3, date(2024, 12, 15)),
    ],
)
def test_add_months_clamps(d: str, n: int, expected: date) -> None:
    assert evaluate(f'add_months(date("{d}"), {n})') == expected


def test_working_days_follow_the_holiday_calendar() -> None:
    # National Day 2025: 1-8 October off, Saturday 11 October worked.
    assert evaluate('add_working_days(date("2025-09-30"), 1)') == date(2025, 10, 9)
    assert evaluate('add_working_days(date("2025-09-30"), 3)') == date(2025, 10, 11)
    assert evaluate('working_days_between(date("2025-09-30"), date("2025-10-10"))') == 2
    # Sunday 28 September 2025 is a make-up working day.
    assert evaluate('add_working_days(date("2025-09-26"), 1)') == date(2025, 9, 28)
    assert evaluate('add_working_days(date("2025-03-07"), 0)') == date(2025, 3, 7)
    assert evaluate('add_working_days(date("2025-03-07"), 5)') == date(2025, 3, 14)


def test_calendar_file_is_consistent() -> None:
    overrides = read_overrides()
    cal = calendar()
    for day, working in overrides.items():
        assert cal.is_working_day(day) == working
        if working:  # a make-up working day (调休) is always a weekend day
            assert day.weekday() >= 5


def test_bad_dates_give_no_value_not_an_error() -> None:
    assert evaluate("date(2025, 2, 30)") is None
    assert evaluate("date(2025, 13, 1)") is None
    assert evaluate("add_days(as_of, 999999999)") is None
