"""Vectorised (Polars expression) checks of standard identifiers and value formats.

Here live the check-character algorithms of the resident ID number (GB 11643, ISO 7064
MOD 11-2) and the unified social credit code (GB 32100), the masks used in reasons, and the
format patterns of dates, periods, mobiles and integers. Each function takes and returns a
Polars expression, so a whole batch is checked without a Python loop; the property tests prove
the checksums equal ``stdnum.cn.ric`` / ``stdnum.cn.uscc`` and the masks equal
``app.privacy``'s. Which rule applies to which field, and the reasons, live in ``validation``.
"""

from __future__ import annotations

import polars as pl

ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9X]$"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_PATTERN = rf"^[0-9]{{8}}[{USCC_ALPHABET}]{{10}}$"
USCC_WEIGHTS = tuple(pow(3, position, 31) for position in range(17))
USCC_ENUM = pl.Enum(list(USCC_ALPHABET))

ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
INTEGER_PATTERN = r"^[+-]?[0-9]{1,15}$"
MOBILE_PATTERN = r"^1[3-9][0-9]{9}$"
REGION_PATTERN = r"^[0-9]{6}$"
EARLIEST_YEAR, LATEST_YEAR = 1800, 2199  # dates outside are data errors, not history


def normalise_id_number(value: pl.Expr) -> pl.Expr:
    """Same normalisation as ``stdnum.cn.ric.compact`` for ASCII input: trim, upper case."""
    return value.str.strip_chars().str.to_uppercase()


def normalise_uscc(value: pl.Expr) -> pl.Expr:
    """Same as ``stdnum.cn.uscc.compact``: drop spaces and hyphens, upper case."""
    return value.str.replace_all(r"[ \-]", "").str.strip_chars().str.to_uppercase()


def id_number_check_value(number: pl.Expr) -> pl.Expr:
    """The MOD 11-2 check value (0-10, 10 written ``X``) of the first 17 digits. Reading them as
    one base-13 integer x gives it as (1 - 2x) mod 11 (as ``stdnum`` does; 13^17 fits in i64)."""
    remainder = number.str.slice(0, 17).str.to_integer(base=13, strict=False) % 11
    return (23 - 2 * remainder) % 11


def id_number_stated_check_value(number: pl.Expr) -> pl.Expr:
    """The check character actually written in position 18, as a value (``X`` = 10)."""
    last = number.str.slice(17, 1)
    return pl.when(last == "X").then(pl.lit(10, pl.Int64)).otherwise(
        last.str.to_integer(strict=False)
    )


def id_number_check_character(number: pl.Expr) -> pl.Expr:
    """The MOD 11-2 check character of the first 17 digits (input must match the pattern)."""
    value = id_number_check_value(number)
    return pl.when(value == 10).then(pl.lit("X")).otherwise(value.cast(pl.String))


def id_number_checksum_ok(number: pl.Expr) -> pl.Expr:
    return id_number_check_value(number) == id_number_stated_check_value(number)


def id_number_birth_date(number: pl.Expr) -> pl.Expr:
    """The birth date encoded in positions 7-14, null when it is not a calendar date."""
    parsed = number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    return pl.when(number.str.slice(6, 4).cast(pl.Int32, strict=False) >= 1).then(parsed)


def id_number_sex(number: pl.Expr) -> pl.Expr:
    """``M`` when the 17th digit (sequence code) is odd, ``F`` when it is even."""
    odd = number.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1
    return pl.when(odd).then(pl.lit("M")).when(~odd).then(pl.lit("F"))  # null stays null


def id_number_is_valid(number: pl.Expr) -> pl.Expr:
    """Format, check character and birth date: what ``stdnum.cn.ric`` checks short of the
    birthplace (the platform checks the region against ``regions`` instead)."""
    well_formed = number.str.contains(ID_NUMBER_PATTERN)
    return (
        well_formed & id_number_checksum_ok(number) & id_number_birth_date(number).is_not_null()
    ).fill_null(False)


def uscc_check_value(code: pl.Expr) -> pl.Expr:
    """The GB 32100 check value (an index into the alphabet) of the first 17 characters; each
    character's index comes from a cast to an Enum of the alphabet (null if not in it)."""
    total = pl.sum_horizontal(
        code.str.slice(position, 1).cast(USCC_ENUM, strict=False).to_physical().cast(pl.Int64)
        * weight
        for position, weight in enumerate(USCC_WEIGHTS)
    )
    return (31 - total % 31) % 31


def uscc_check_character(code: pl.Expr) -> pl.Expr:
    """The GB 32100 check character (input must match the pattern)."""
    return uscc_check_value(code).replace_strict(
        list(range(31)), list(USCC_ALPHABET), return_dtype=pl.String
    )


def uscc_checksum_ok(code: pl.Expr) -> pl.Expr:
    stated = code.str.slice(17, 1).cast(USCC_ENUM, strict=False).to_physical().cast(pl.Int64)
    return uscc_check_value(code) == stated


def uscc_is_valid(code: pl.Expr) -> pl.Expr:
    return (code.str.contains(USCC_PATTERN) & uscc_checksum_ok(code)).fill_null(False)


def parse_date(value: pl.Expr) -> pl.Expr:
    """An ISO date (YYYY-MM-DD) between 1800 and 2199, else null (``2023-02-30`` is null)."""
    parsed = (
        pl.when(value.str.contains(ISO_DATE_PATTERN))
        .then(value)
        .str.to_date("%Y-%m-%d", strict=False)
    )
    return pl.when(parsed.dt.year().is_between(EARLIEST_YEAR, LATEST_YEAR)).then(parsed)


def is_period(value: pl.Expr) -> pl.Expr:
    year = value.str.slice(0, 4).cast(pl.Int32, strict=False)
    return value.str.contains(PERIOD_PATTERN) & year.is_between(EARLIEST_YEAR, LATEST_YEAR)


def parse_integer(value: pl.Expr) -> pl.Expr:
    """A whole number (optional sign, up to 15 digits), else null."""
    return pl.when(value.str.contains(INTEGER_PATTERN)).then(value).cast(pl.Int64, strict=False)


def mask_id_number(value: pl.Expr) -> pl.Expr:
    """Vectorised ``app.privacy.mask_id_number``: first 6 and last 4 characters shown."""
    length = value.str.len_chars()
    middle = value.str.slice(6, length - 10).str.replace_all("(?s).", "*")
    masked = pl.concat_str([value.str.slice(0, 6), middle, value.str.slice(-4, 4)])
    return pl.when(length < 10).then(value.str.replace_all("(?s).", "*")).otherwise(masked)


def mask_mobile(value: pl.Expr) -> pl.Expr:
    """Vectorised ``app.privacy.mask_mobile``: first 3 and last 4 characters shown."""
    length = value.str.len_chars()
    middle = value.str.slice(3, length - 7).str.replace_all("(?s).", "*")
    masked = pl.concat_str([value.str.slice(0, 3), middle, value.str.slice(-4, 4)])
    return pl.when(length < 7).then(value.str.replace_all("(?s).", "*")).otherwise(masked)


def echo(value: pl.Expr, limit: int = 40) -> pl.Expr:
    """A non-personal value quoted for a reason: cut to ``limit`` characters, and any run of 11
    or more digits (a misplaced ID or mobile number) masked in the middle."""
    long_digit_run = r"([0-9]{3})[0-9]{4,}([0-9]{4})"
    cut = value.str.slice(0, limit).str.replace_all(long_digit_run, "${1}****${2}")
    suffix = pl.when(value.str.len_chars() > limit).then(pl.lit("…")).otherwise(pl.lit(""))
    return pl.concat_str([pl.lit('"'), cut, suffix, pl.lit('"')])
