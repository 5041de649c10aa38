"""Vectorised calendar arithmetic for the synthetic city.

Dates are ``int32`` arrays of days since 1970-01-01 (numpy's ``datetime64[D]`` epoch) and months
are ``int32`` month numbers (``year * 12 + month - 1``). Here live conversions between the two
and to Polars; nothing about people or enterprises.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

Days = npt.NDArray[np.int32]
Ints = npt.NDArray[np.int64]

EPOCH = date(1970, 1, 1)
NO_DAY = np.int32(np.iinfo(np.int32).min)  # "no such date" in a day array
DAYS_PER_YEAR = 365.2425


def day_number(value: date) -> int:
    return (value - EPOCH).days


def ymd(days: npt.ArrayLike) -> tuple[Ints, Ints, Ints]:
    """Split day numbers into year, month (1-12) and day of month (1-31).

    Integer arithmetic (H. Hinnant's ``civil_from_days``): several times faster than numpy's
    ``datetime64`` unit casts on millions of dates."""
    z = np.asarray(days, dtype=np.int64) + 719_468
    era = z // 146_097
    day_of_era = z - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = np.where(shifted_month < 10, shifted_month + 3, shifted_month - 9)
    year = year_of_era + era * 400 + (month <= 2)
    return year, month, day


def from_ymd(year: npt.ArrayLike, month: npt.ArrayLike, day: npt.ArrayLike) -> Days:
    """Day numbers of (year, month, day); a day past the month's end rolls into the next month,
    so 29 February of a common year is 1 March (the usual legal reading of such a birthday)."""
    months = (np.asarray(year, dtype=np.int64) - 1970) * 12 + np.asarray(month, dtype=np.int64) - 1
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return (first + np.asarray(day, dtype=np.int64) - 1).astype(np.int32)


def add_years(days: npt.ArrayLike, years: npt.ArrayLike) -> Days:
    """The anniversary ``years`` years after each date (29 February → 1 March in common years)."""
    year, month, day = ymd(days)
    return from_ymd(year + np.asarray(years, dtype=np.int64), month, day)


def month_number(days: npt.ArrayLike) -> Ints:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + (
        1970 * 12
    )


def month_start(month: npt.ArrayLike) -> Days:
    shifted = np.asarray(month, dtype=np.int64) - 1970 * 12
    return shifted.astype("datetime64[M]").astype("datetime64[D]").astype(np.int32)


def is_leap(year: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    y = np.asarray(year)
    return ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)


def period_series(name: str, month: npt.ArrayLike) -> pl.Series:
    """``YYYY-MM`` strings of month numbers."""
    m = np.asarray(month, dtype=np.int64)
    year = pl.Series(m // 12).cast(pl.String)
    mon = pl.Series(m % 12 + 1).cast(pl.String).str.zfill(2)
    return pl.select(pl.concat_str([year, mon], separator="-")).to_series().alias(name)


def compact_date_series(days: npt.ArrayLike) -> pl.Series:
    """``YYYYMMDD`` strings, as inside an ID number."""
    year, month, day = ymd(days)
    return pl.Series(year * 10_000 + month * 100 + day).cast(pl.String)
