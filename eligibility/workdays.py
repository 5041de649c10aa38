"""The one working-day calendar: weekends, public holidays and make-up working days (调休).

Sources, later ones winning: Monday to Friday; the State Council schedule published in the
``chinesecalendar`` package for the years it knows; ``data/holidays_cn.csv`` (date, ``holiday`` |
``workday``, name) for years the package does not know yet. The calendar is precomputed as two
arrays over 1950-2100 so working-day arithmetic is a vectorised lookup (``gather``) in Polars:

- ``working_days_between(a, b)``: working days after ``a`` up to and including ``b`` (negative
  when ``b`` is before ``a``);
- ``add_working_days(d, n)``: the ``n``-th working day after ``d`` (``n = 0`` gives ``d``;
  negative ``n`` gives no value).

The grant pipeline's date helpers (``eligibility.grants.workdays``) read the same arrays, so a
policy expression and a public-notice deadline always count the same days.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar
import numpy as np
import polars as pl

CALENDAR_FILE = Path(__file__).parent / "data" / "holidays_cn.csv"
FIRST_DAY = date(1950, 1, 1)
LAST_DAY = date(2100, 12, 31)
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class WorkdayCalendar:
    first_day_number: int  # days since 1970-01-01 of FIRST_DAY
    cumulative: pl.Series  # working days from FIRST_DAY up to and including each day
    working_dates: pl.Series  # every working day, ascending

    def is_working_day(self, day: date) -> bool:
        return self.ordinal(day) > self.ordinal(day - timedelta(days=1))

    def ordinal(self, day: date) -> int:
        """Working days from FIRST_DAY up to and including ``day``."""
        i = (day - FIRST_DAY).days
        if not 0 <= i < len(self.cumulative):
            if i < 0:
                return 0
            raise ValueError(f"{day} is beyond the working-day calendar (until {LAST_DAY})")
        return int(self.cumulative[i])


def read_overrides(path: Path = CALENDAR_FILE) -> dict[date, bool]:
    overrides: dict[date, bool] = {}
    with path.open(encoding="utf-8") as handle:
        rows = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(rows):
            overrides[date.fromisoformat(row["date"])] = row["kind"] == "workday"
    return overrides


@cache
def calendar(path: Path = CALENDAR_FILE) -> WorkdayCalendar:
    days = (LAST_DAY - FIRST_DAY).days + 1
    weekday0 = FIRST_DAY.weekday()
    working = (np.arange(weekday0, weekday0 + days) % 7) < 5
    published = {day: False for day in chinese_calendar.holidays}
    published.update({day: True for day in chinese_calendar.workdays})
    for day, is_working in {**published, **read_overrides(path)}.items():
        if FIRST_DAY <= day <= LAST_DAY:
            working[(day - FIRST_DAY).days] = is_working
    cumulative = np.cumsum(working, dtype=np.int64)
    dates = [FIRST_DAY + timedelta(days=int(i)) for i in np.flatnonzero(working)]
    return WorkdayCalendar(
        first_day_number=(FIRST_DAY - EPOCH).days,
        cumulative=pl.Series("cumulative", cumulative),
        working_dates=pl.Series("working_dates", dates, dtype=pl.Date),
    )


def _day_index(day: pl.Expr, cal: WorkdayCalendar) -> pl.Expr:
    index = day.cast(pl.Int64) - cal.first_day_number
    return pl.when(index.is_between(0, len(cal.cumulative) - 1)).then(index)


def _cumulative(day: pl.Expr, cal: WorkdayCalendar) -> pl.Expr:
    index = _day_index(day, cal)
    return pl.when(index.is_not_null()).then(pl.lit(cal.cumulative).gather(index.fill_null(0)))


def working_days_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    cal = calendar()
    return (_cumulative(end, cal) - _cumulative(start, cal)).cast(pl.Int64)


def add_working_days(day: pl.Expr, n: pl.Expr) -> pl.Expr:
    cal = calendar()
    target = _cumulative(day, cal) + n  # 1-based ordinal of the wanted working day
    valid = (n >= 0) & target.is_between(1, len(cal.working_dates))
    found = pl.lit(cal.working_dates).gather((target - 1).clip(0, len(cal.working_dates) - 1))
    return pl.when(n == 0).then(day).when(valid).then(found)
