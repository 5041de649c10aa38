"""Identifiers of the synthetic city: every generated ID number and USCC is accepted by
python-stdnum and encodes what the row says; none repeats, not even past a full day."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from app.datahub.synth.dates import day_number, ymd
from app.datahub.synth.ids import (
    PHANTOM_USCC_SERIAL,
    SequenceAllocator,
    id_numbers,
    phantom_id_numbers,
    usccs,
)
from app.datahub.synth.places import HOMES, HUKOU_DISTRICTS, birthplace_codes

LAST = day_number(date(2026, 12, 1))
people = st.lists(
    st.tuples(
        st.integers(day_number(date(1900, 1, 1)), LAST),
        st.integers(0, len(HOMES) - 1),
        st.booleans(),
        st.booleans(),
    ),
    min_size=1, max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(people)
def test_id_numbers_are_valid_and_encode_birth_date_sex_and_birthplace(rows: list) -> None:
    birth = np.array([r[0] for r in rows], dtype=np.int32)
    home = np.array([r[1] for r in rows], dtype=np.int64)
    male = np.array([r[2] for r in rows])
    elsewhere = np.array([r[3] for r in rows])
    year, month, day = ymd(birth)
    code = birthplace_codes(np.random.default_rng(0), home, np.zeros_like(home), year, elsewhere)
    allocator = SequenceAllocator(LAST)
    code, sequence = allocator.allocate(code, birth, male)
    numbers = id_numbers(code, birth, sequence).to_list()
    assert len(set(numbers)) == len(numbers)
    for number, y, m, d, is_male in zip(numbers, year, month, day, male, strict=True):
        assert ric.validate(number) == number
        assert ric.get_birth_date(number) == date(int(y), int(m), int(d))
        assert (int(number[16]) % 2 == 1) == is_male


def test_a_full_day_spills_into_another_valid_code_without_repeats() -> None:
    allocator = SequenceAllocator(LAST)
    birth = np.full(1_200, day_number(date(2010, 5, 5)), dtype=np.int32)
    code = birthplace_codes(np.random.default_rng(0), np.zeros(1_200, np.int64),
                            np.zeros(1_200, np.int64), ymd(birth)[0], np.zeros(1_200, bool))
    male = np.ones(1_200, dtype=bool)
    placed, sequence = allocator.allocate(code, birth, male)
    numbers = id_numbers(placed, birth, sequence)
    assert numbers.n_unique() == 1_200
    assert numbers.str.slice(0, 6).n_unique() > 1
    assert all(ric.is_valid(n) and int(n[16]) % 2 == 1 for n in numbers)
    later, later_sequence = allocator.allocate(code[:10], birth[:10], male[:10])  # next chunk
    again = id_numbers(later, birth[:10], later_sequence)
    assert not again.is_in(numbers.to_list()).any()


def test_phantom_id_numbers_use_sequence_codes_the_registry_never_gets() -> None:
    rng = np.random.default_rng(5)
    birth = rng.integers(day_number(date(1930, 1, 1)), LAST, 2_000).astype(np.int32)
    male = rng.random(2_000) < 0.5
    phantoms = phantom_id_numbers(rng, birth, male)
    assert all(ric.is_valid(n) for n in phantoms)
    assert (phantoms.str.slice(14, 3).cast(pl.Int64) >= 990).all()
    code = birthplace_codes(rng, np.zeros(2_000, np.int64), np.zeros(2_000, np.int64),
                            ymd(birth)[0], np.zeros(2_000, bool))
    _, sequence = SequenceAllocator(LAST).allocate(code, birth, male)
    assert sequence.max() < 990


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, PHANTOM_USCC_SERIAL * 2), st.booleans(), st.booleans(),
                          st.sampled_from(HUKOU_DISTRICTS)), min_size=1, max_size=40,
                unique_by=lambda r: r[0]))
def test_usccs_are_valid_unique_and_encode_kind_and_region(rows: list) -> None:
    serial = np.array([r[0] for r in rows], dtype=np.int64)
    individual = np.array([r[1] for r in rows])
    modern = np.array([r[2] for r in rows])
    region = np.array([int(r[3]) for r in rows], dtype=np.int64)
    codes = usccs(individual, region, serial, modern).to_list()
    assert len(set(codes)) == len(codes)
    for code, ind, mod, reg in zip(codes, individual, modern, region, strict=True):
        assert uscc.validate(code) == code
        assert code[:2] == ("92" if ind else "91") and code[2:8] == str(reg)
        assert code[8:10] == "MA" if mod else code[8:16].isdigit()
