"""Working days (工作日) for the grant pipeline's scalar dates (public-notice windows, objection
deadlines): thin helpers over the one calendar in :mod:`eligibility.workdays`, so the pipeline
and policy expressions never disagree about a 调休 weekend or a holiday."""

from __future__ import annotations

from datetime import date

from eligibility.workdays import calendar


def is_working_day(day: date) -> bool:
    return calendar().is_working_day(day)


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    if days <= 0:
        return start
    cal = calendar()
    day: date = cal.working_dates[cal.ordinal(start) + days - 1]
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]."""
    cal = calendar()
    return max(cal.ordinal(end) - cal.ordinal(start), 0)
