"""The vectorised checks agree with the reference implementations: ``stdnum.cn.ric`` and
``stdnum.cn.uscc`` for the check characters, ``app.privacy`` for masks, hashes and ciphertext."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidComponent, ValidationError

from app.datahub import checks
from app.datahub.storage import blind_indexer, encrypt_all, index_all
from app.privacy import MOBILE, ROW, SUBJECT, keyring, mask_id_number, mask_mobile

ID_CHARACTERS = "0123456789Xx"
USCC_CHARACTERS = checks.USCC_ALPHABET + "IOSVZ-abc "


def _column(values: list[str], expression: pl.Expr) -> list[object]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(expression).to_series().to_list()


def stdnum_ric_valid(number: str) -> bool:
    """stdnum's verdict short of the birthplace lookup (the platform checks regions itself)."""
    try:
        ric.validate(number)
    except InvalidComponent:
        try:
            ric.get_birth_date(number)  # the birth date is fine, so only the birthplace failed
        except (InvalidComponent, ValueError):
            return False
        return True
    except ValidationError:
        return False
    return True


@st.composite
def id_like(draw: st.DrawFn) -> str:
    """Mostly near-valid ID numbers (real date or a broken one, any check character)."""
    region = draw(st.sampled_from(["440604", "110105", "360426", "000000"]))
    born = draw(st.dates(min_value=date(1, 1, 1), max_value=date(2100, 12, 31)))
    real = f"{born.year:04d}{born.month:02d}{born.day:02d}"
    digits = draw(st.sampled_from([real, "19560230", "20231301", "00000101"]))
    sequence = draw(st.integers(0, 999))
    body = f"{region}{digits}{sequence:03d}"
    last = draw(st.sampled_from([ric.calc_check_digit(body + "0"), *ID_CHARACTERS]))
    return body + last


ID_INPUTS = st.one_of(id_like(), st.text(ID_CHARACTERS + " ", max_size=20))


@settings(max_examples=300, deadline=None)
@given(st.lists(ID_INPUTS, min_size=1, max_size=50))
def test_id_number_check_matches_stdnum(numbers: list[str]) -> None:
    normalised = [number.strip().upper() for number in numbers]
    valid = _column(numbers, checks.id_number_is_valid(checks.normalise_id_number(pl.col("v"))))
    assert valid == [stdnum_ric_valid(number) for number in numbers]
    digits17 = [n for n in normalised if len(n) == 18 and n[:17].isdigit()]
    assert _column(digits17, checks.id_number_check_character(pl.col("v"))) == [
        ric.calc_check_digit(n) for n in digits17
    ]


@st.composite
def uscc_like(draw: st.DrawFn) -> str:
    body = draw(st.text("0123456789", min_size=8, max_size=8)) + draw(
        st.text(checks.USCC_ALPHABET, min_size=9, max_size=9)
    )
    last = draw(st.sampled_from([uscc.calc_check_digit(body), *checks.USCC_ALPHABET, "I"]))
    return body + last


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(uscc_like(), st.text(USCC_CHARACTERS, max_size=20)), min_size=1,
                max_size=50))
def test_uscc_check_matches_stdnum(codes: list[str]) -> None:
    valid = _column(codes, checks.uscc_is_valid(checks.normalise_uscc(pl.col("v"))))
    assert valid == [uscc.is_valid(code) for code in codes]
    shaped = [code for code in codes if uscc.is_valid(code)]
    assert _column(shaped, checks.uscc_check_character(pl.col("v"))) == [
        uscc.calc_check_digit(code) for code in shaped
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=25), min_size=1, max_size=20))
def test_masks_match_privacy(values: list[str]) -> None:
    assert _column(values, checks.mask_id_number(pl.col("v"))) == [
        mask_id_number(v) for v in values
    ]
    assert _column(values, checks.mask_mobile(pl.col("v"))) == [mask_mobile(v) for v in values]


def test_dates_and_periods() -> None:
    dates = ["2024-02-29", "2023-02-29", "2023-02-30", "2023-1-01", "0000-01-01", "20230101"]
    assert _column(dates, checks.parse_date(pl.col("v"))) == [date(2024, 2, 29)] + [None] * 5
    periods = ["2024-05", "2024-13", "2024-5", "2024-00", "1700-01"]
    assert _column(periods, checks.is_period(pl.col("v"))) == [True, False, False, False, False]


def test_echo_masks_long_digit_runs() -> None:
    shown = _column(["region 440604195601011234 here", "ab", "x" * 50], checks.echo(pl.col("v")))
    assert shown[0] == '"region 440****1234 here"'
    assert shown[1] == '"ab"'
    assert shown[2] == '"' + "x" * 40 + '…"'


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=20))
def test_bulk_hashing_and_encryption_match_privacy(values: list[str]) -> None:
    ring = keyring()
    ids = [v.strip().upper() for v in values]  # what validation hands over: normalised
    mobiles = [v.strip() for v in values]
    assert [blind_indexer(ring, SUBJECT)(v) for v in ids] == [ring.subject_key(v) for v in ids]
    assert [blind_indexer(ring, MOBILE)(v) for v in mobiles] == [
        ring.mobile_index(v) for v in mobiles
    ]
    assert [blind_indexer(ring, ROW)(v) for v in values] == [ring.row_hash(v) for v in values]
    column = pl.Series([*ids, None], dtype=pl.String)
    assert index_all(ring, SUBJECT, column).to_list() == [ring.subject_key(v) for v in ids] + [None]
    tokens = encrypt_all(ring, values).to_list()
    assert [ring.decrypt(token).decode() for token in tokens] == values
    from_series = encrypt_all(ring, pl.Series(values, dtype=pl.String)).to_list()
    assert [ring.decrypt(token).decode() for token in from_series] == values
    assert len(set(tokens)) == len(tokens)  # a fresh nonce for every value
