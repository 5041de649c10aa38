"""Vectorised identifiers: resident ID numbers (GB 11643) and unified social credit codes
(GB 32100), unique over a whole city and valid for python-stdnum.

An ID number is region(6) + birth date(8) + sequence(3, odd for men) + ISO 7064 MOD 11-2 check.
``SequenceAllocator`` hands out sequence codes per (region, birth date, sex) across chunks, so
no two people share a number and memory stays at one small counter table. Codes 990-999 are
never handed out: ``phantom_id_numbers`` uses them for people who are deliberately absent from
the registry. USCC serials at and above ``PHANTOM_USCC_SERIAL`` do the same for enterprises.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from app.datahub.synth.dates import Days, compact_date_series, day_number, ymd
from app.datahub.synth.places import birthplace_table

Ints = npt.NDArray[np.int64]

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK_CHARS = "10X98765432"  # indexed by weighted sum mod 11
REGISTRY_SLOTS = 495  # sequence codes 2*slot + sex for slot < 495; 495..499 are phantoms'
FIRST_BIRTH_DAY = day_number(date(1900, 1, 1))


def _digits(values: Ints, count: int) -> Ints:
    """(n, count) decimal digits of non-negative integers, most significant first."""
    powers = 10 ** np.arange(count - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers) % 10


def _weighted_digit_sum(values: Ints, weights: npt.NDArray[np.int64]) -> Ints:
    """Sum of digit × weight over the ``len(weights)`` decimal digits of each value."""
    total = np.zeros(values.size, dtype=np.int64)
    rest = values.copy()
    for weight in weights[::-1]:
        total += (rest % 10) * weight
        rest //= 10
    return total


def id_check_chars(code_index: Ints, birth_days: Days, sequence: Ints) -> pl.Series:
    codes, _ = birthplace_table()
    region_sums = _weighted_digit_sum(np.array([int(c) for c in codes]), ID_WEIGHTS[:6])
    year, month, day = ymd(birth_days)
    total = (
        region_sums[code_index]
        + _weighted_digit_sum(year * 10_000 + month * 100 + day, ID_WEIGHTS[6:14])
        + _weighted_digit_sum(sequence, ID_WEIGHTS[14:])
    )
    return pl.Series(list(ID_CHECK_CHARS)).gather(total % 11)


def id_numbers(code_index: Ints, birth_days: Days, sequence: Ints) -> pl.Series:
    """ID numbers from region-code indexes (into ``birthplace_table()[0]``), birth days and
    3-digit sequence codes."""
    codes, _ = birthplace_table()
    frame = pl.DataFrame({
        "region": pl.Series(codes).gather(code_index),
        "birth": compact_date_series(birth_days),
        "sequence": pl.Series(sequence).cast(pl.String).str.zfill(3),
        "check": id_check_chars(code_index, birth_days, sequence),
    })
    return frame.select(pl.concat_str(["region", "birth", "sequence", "check"])).to_series()


# Codes every birth year accepts, for the surplus of a full (code, day, sex).
FALLBACK_CODES = ("440600", "440000", "440100", "440300", "440400", "440500")


class SequenceAllocator:
    """Sequence codes unique per (birthplace code, birth date, sex), handed out in call order."""

    def __init__(self, last_birth_day: int) -> None:
        codes, _ = birthplace_table()
        self.days = last_birth_day - FIRST_BIRTH_DAY + 1
        self.used = np.zeros(len(codes) * self.days * 2, dtype=np.uint16)

    def allocate(
        self, code_index: Ints, birth_days: Days, male: npt.NDArray[np.bool_]
    ) -> tuple[Ints, Ints]:
        """(code indexes, sequence codes) for these people. A (code, day, sex) that is full
        moves its surplus to the province's code, which every year accepts (not reached in
        practice: that takes 495 people of one sex born on one day in one district)."""
        codes, _ = birthplace_table()
        code_index = code_index.copy()
        sequence = np.empty(code_index.size, dtype=np.int64)
        pending = np.arange(code_index.size)
        fallbacks = iter(FALLBACK_CODES)
        while pending.size:
            day = birth_days[pending].astype(np.int64) - FIRST_BIRTH_DAY
            sex = male[pending].astype(np.int64)
            key = (code_index[pending] * self.days + day) * 2 + sex
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
            counts = np.diff(np.r_[starts, sorted_key.size])
            rank = np.arange(sorted_key.size) - np.repeat(starts, counts)
            slot = np.empty(key.size, dtype=np.int64)
            slot[order] = self.used[sorted_key].astype(np.int64) + rank
            group_keys = sorted_key[starts]
            self.used[group_keys] = np.minimum(
                self.used[group_keys].astype(np.int64) + counts, REGISTRY_SLOTS
            ).astype(np.uint16)
            fits = slot < REGISTRY_SLOTS
            done = pending[fits]
            scrambled = (slot[fits] * 7919 + (key[fits] * 2654435761) % REGISTRY_SLOTS)
            sequence[done] = 2 * (scrambled % REGISTRY_SLOTS) + sex[fits]
            pending = pending[~fits]
            if pending.size:
                fallback = next(fallbacks, None)
                if fallback is None:
                    raise OverflowError("too many people of one sex born on one day")
                code_index[pending] = codes.index(fallback)
        return code_index, sequence


def phantom_id_numbers(
    rng: np.random.Generator, birth_days: Days, male: npt.NDArray[np.bool_]
) -> pl.Series:
    """Valid ID numbers that no registry person holds (sequence codes 990-999)."""
    codes, lookup = birthplace_table()
    year, _, _ = ymd(birth_days)
    home = rng.integers(0, lookup.shape[0], birth_days.size)
    code_index = lookup[home, np.clip(year, 1900, 2100) - 1900].astype(np.int64)
    code_index[code_index < 0] = codes.index("440000")
    slot = rng.integers(REGISTRY_SLOTS, 500, birth_days.size)
    return id_numbers(code_index, birth_days, 2 * slot + male.astype(np.int64))


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)  # GB 11714 organisation code
PHANTOM_USCC_SERIAL = 90_000_000  # serials below it are registered enterprises


def _org_body(serial: Ints, modern: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """(n, 8) alphabet indexes of the organisation code body: 8 scrambled digits for codes from
    before 2015, ``MA`` + 6 scrambled characters for newer ones (as issued since the reform)."""
    digits = _digits((serial * 48271 + 12_345_678) % 100_000_000, 8)
    space = 31**6
    value = (serial * 48271 + 7_654_321) % space
    powers = 31 ** np.arange(5, -1, -1, dtype=np.int64)
    letters = np.concatenate([
        np.tile([USCC_ALPHABET.index("M"), USCC_ALPHABET.index("A")], (serial.size, 1)),
        (value[:, None] // powers) % 31,
    ], axis=1)
    return np.where(modern[:, None], letters, digits)


def _org_check(body: npt.NDArray[np.int64]) -> Ints:
    # GB 11714 values letters A=10 … Z=35; map alphabet indexes to those values first.
    values = np.array([int(c, 36) for c in USCC_ALPHABET], dtype=np.int64)[body]
    check = 11 - (values @ ORG_WEIGHTS) % 11
    return np.where(check == 10, USCC_ALPHABET.index("X"), np.where(check == 11, 0, check))


def usccs(
    individual: npt.NDArray[np.bool_], region_code: npt.NDArray[np.int64], serial: Ints,
    modern: npt.NDArray[np.bool_],
) -> pl.Series:
    """USCCs: ``92`` for individual businesses, ``91`` for companies; ``region_code`` as ints;
    ``serial`` unique per enterprise (see ``PHANTOM_USCC_SERIAL``)."""
    body = _org_body(serial, modern)
    prefix = np.stack([np.full(serial.size, 9), np.where(individual, 2, 1)], axis=1)
    chars = np.concatenate(
        [prefix, _digits(region_code, 6), body, _org_check(body)[:, None]], axis=1
    )
    check = (31 - (chars @ USCC_WEIGHTS) % 31) % 31
    full = np.concatenate([chars, check[:, None]], axis=1)
    alphabet = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
    raw = np.ascontiguousarray(alphabet[full]).view("S18").ravel()
    return pl.Series(raw.astype("U18"))
