"""Working days follow the State Council's holiday schedule (with 调休 weekends) and periods step
across year ends; both are pure functions the lifecycle relies on."""

from __future__ import annotations

from datetime import date

from eligibility.grants.periods import next_period, periods_between, previous_period
from eligibility.grants.workdays import add_working_days, is_working_day, working_days_between


def test_national_day_holiday_and_adjusted_weekend() -> None:
    assert not is_working_day(date(2025, 10, 1))  # 国庆节
    assert is_working_day(date(2025, 9, 28))  # a Sunday worked in exchange (调休)
    # Five working days from Tuesday 30 September 2025 skip the holiday (1–8 October) and
    # count Saturday 11 October, worked in exchange: 9, 10, 11, 13, 14 October.
    assert add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 14)) == 5


def test_beyond_the_published_schedule_weekdays_count() -> None:
    assert add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 7)  # Friday → Monday


def test_periods_step_across_the_year() -> None:
    assert next_period("2025-12") == "2026-01" and previous_period("2026-01") == "2025-12"
    assert periods_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert periods_between("2026-03", "2026-02") == []
    assert next_period("2025") == "2026"
