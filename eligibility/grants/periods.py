"""Payment periods as text: ``YYYY-MM`` (monthly), ``YYYY`` (yearly); helpers to step through
them and to find their first and last days. Pure functions, no database."""

from __future__ import annotations

from datetime import date, timedelta


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_of(day: date, period_kind: str) -> str:
    return f"{day.year:04d}" if period_kind == "year" else month_of(day)


def next_period(period: str) -> str:
    if len(period) == 4:
        return f"{int(period) + 1:04d}"
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def previous_period(period: str) -> str:
    if len(period) == 4:
        return f"{int(period) - 1:04d}"
    year, month = int(period[:4]), int(period[5:7])
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"


def periods_between(first: str, last: str) -> list[str]:
    """Every period from ``first`` to ``last`` inclusive (empty when first > last)."""
    result: list[str] = []
    period = first
    while period <= last:
        result.append(period)
        period = next_period(period)
    return result


def first_day(period: str) -> date:
    if len(period) == 4:
        return date(int(period), 1, 1)
    return date(int(period[:4]), int(period[5:7]), 1)


def last_day(period: str) -> date:
    return first_day(next_period(period)) - timedelta(days=1)


def months_back(day: date, months: int) -> date:
    """First day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
