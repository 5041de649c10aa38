"""Deliberately dirty rows, so the import path is exercised: about ``dirty_share`` of each
dataset's rows are corrupted in one of the ways ``DirtyKind`` names, each in a way the catalog's
rules reject (checksums, dates, regions, enums, required fields, amounts, references).

``corrupt`` works on a chunk's string frame and reports where the dirty rows now are; a
duplicate is appended after the chunk, its original stays clean. Which kinds apply to a dataset
is read from the catalog. Writing the rows and the manifest is ``writer``'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import polars as pl

from app.datahub.catalog import DatasetSpec, FieldSpec, FieldType
from app.datahub.regions import REGIONS
from app.datahub.synth.context import CityContext
from app.datahub.synth.ids import (
    ID_CHECK_CHARS,
    PHANTOM_USCC_SERIAL,
    USCC_ALPHABET,
    phantom_id_numbers,
    usccs,
)


class DirtyKind(StrEnum):
    BAD_ID_CHECKSUM = "bad_id_checksum"
    ID_BIRTH_DATE_MISMATCH = "id_birth_date_mismatch"  # departments disagree on a birth date
    IMPOSSIBLE_DATE = "impossible_date"
    UNKNOWN_REGION = "unknown_region"
    BAD_USCC_CHECK = "bad_uscc_check"
    DUPLICATE_ROW = "duplicate_row"
    ENUM_OUT_OF_RANGE = "enum_out_of_range"
    MISSING_REQUIRED = "missing_required"
    NEGATIVE_AMOUNT = "negative_amount"
    UNKNOWN_ENTERPRISE = "unknown_enterprise"
    UNKNOWN_PERSON = "unknown_person"


UNKNOWN_REGIONS = ("440699", "449999", "440609", "990101")
assert not set(UNKNOWN_REGIONS) & set(REGIONS)
OUT_OF_RANGE_VALUES = ("unknown", "other", "99")
IMPOSSIBLE_DAYS = ("02-30", "02-31", "04-31", "06-31", "13-01", "00-10")
IMPOSSIBLE_MONTHS = ("13", "00")
# Datasets whose row carries both an ID number and the birth date it encodes.
BIRTH_DATE_PAIRS = {"person": ("id_number", "birth_date")}


def _fields(spec: DatasetSpec, kind: DirtyKind) -> list[FieldSpec]:
    """Fields of ``spec`` a dirty row of ``kind`` can be made in (empty: kind does not apply).
    Only always-present fields, so the corruption never lands on an empty cell."""
    own = [f for f in spec.fields if f.required]
    if kind is DirtyKind.BAD_ID_CHECKSUM:
        return [f for f in own if f.type is FieldType.ID_NUMBER]
    if kind is DirtyKind.ID_BIRTH_DATE_MISMATCH:
        return [spec.field(BIRTH_DATE_PAIRS[spec.name][1])] if spec.name in BIRTH_DATE_PAIRS else []
    if kind is DirtyKind.IMPOSSIBLE_DATE:
        return [f for f in own if f.type in (FieldType.DATE, FieldType.PERIOD)]
    if kind is DirtyKind.UNKNOWN_REGION:
        return [f for f in spec.fields if f.type is FieldType.REGION]
    if kind is DirtyKind.BAD_USCC_CHECK:
        return [f for f in own if f.type is FieldType.USCC]
    if kind is DirtyKind.ENUM_OUT_OF_RANGE:
        return [f for f in own if f.type is FieldType.ENUM]
    if kind is DirtyKind.MISSING_REQUIRED:
        return own
    if kind is DirtyKind.NEGATIVE_AMOUNT:
        return [f for f in own if f.type is FieldType.MONEY]
    if kind is DirtyKind.UNKNOWN_ENTERPRISE:
        return [f for f in own if f.ref == "enterprise.uscc"]
    if kind is DirtyKind.UNKNOWN_PERSON:
        return [f for f in own if f.ref == "person.id_number"]
    return []


def applicable_kinds(spec: DatasetSpec) -> list[DirtyKind]:
    return [k for k in DirtyKind if k is DirtyKind.DUPLICATE_ROW or _fields(spec, k)]


@dataclass(frozen=True)
class Corruption:
    frame: pl.DataFrame  # the chunk to write: corrupted rows in place, duplicates appended
    positions: npt.NDArray[np.int64]  # rows of ``frame`` that are dirty
    kinds: list[str]
    spoiled: npt.NDArray[np.bool_]  # rows of the input whose own content is now invalid


def corrupt(
    ctx: CityContext, rng: np.random.Generator, spec: DatasetSpec, frame: pl.DataFrame,
    protected: npt.NDArray[np.bool_] | None = None,
) -> Corruption:
    """Corrupt about ``ctx.dirty_share`` of ``frame``'s rows (never ``protected`` ones)."""
    size = frame.height
    spoiled = np.zeros(size, dtype=bool)
    candidates = np.arange(size) if protected is None else np.flatnonzero(~protected)
    count = int(rng.binomial(candidates.size, ctx.dirty_share))
    if count == 0:
        return Corruption(frame, np.empty(0, np.int64), [], spoiled)
    rows = np.sort(rng.choice(candidates, count, replace=False))
    kinds = applicable_kinds(spec)
    kind_of_row = rng.integers(0, len(kinds), count)
    columns = {name: frame[name].clone() for name in frame.columns}
    positions: list[npt.NDArray[np.int64]] = []
    labels: list[str] = []
    for k, kind in enumerate(kinds):
        chosen = rows[kind_of_row == k]
        if chosen.size == 0 or kind is DirtyKind.DUPLICATE_ROW:
            continue
        fields = _fields(spec, kind)
        field_of_row = rng.integers(0, len(fields), chosen.size)
        for f, field in enumerate(fields):
            at = chosen[field_of_row == f]
            if at.size:
                column = columns[field.name]
                values = _spoil(ctx, rng, kind, field, column.gather(at).to_list())
                column.scatter(at, pl.Series(values, dtype=pl.String))
        spoiled[chosen] = True
    result = pl.DataFrame(list(columns.values()))
    duplicated = rows[kind_of_row == kinds.index(DirtyKind.DUPLICATE_ROW)]
    if duplicated.size:
        result = pl.concat([result, result[duplicated]])
    order = np.argsort(rows, kind="stable")
    for row, k in zip(rows[order].tolist(), kind_of_row[order].tolist(), strict=True):
        if kinds[k] is not DirtyKind.DUPLICATE_ROW:
            positions.append(np.array([row]))
            labels.append(kinds[k].value)
    positions.append(size + np.arange(duplicated.size))
    labels.extend([DirtyKind.DUPLICATE_ROW.value] * duplicated.size)
    return Corruption(result, np.concatenate(positions).astype(np.int64), labels, spoiled)


def _spoil(
    ctx: CityContext, rng: np.random.Generator, kind: DirtyKind, field: FieldSpec,
    present: list[str | None],
) -> list[str | None]:
    """Corrupted versions of ``present`` (values of ``field``, never empty: see ``_fields``)."""
    values = [v or "" for v in present]
    n = len(values)
    shift = rng.integers(1, 11, n).tolist()
    if kind is DirtyKind.BAD_ID_CHECKSUM:
        return [v[:-1] + ID_CHECK_CHARS[(ID_CHECK_CHARS.index(v[-1]) + s) % 11]
                for v, s in zip(values, shift, strict=True)]
    if kind is DirtyKind.BAD_USCC_CHECK:
        return [v[:-1] + USCC_ALPHABET[(USCC_ALPHABET.index(v[-1]) + s) % 31]
                for v, s in zip(values, shift, strict=True)]
    if kind is DirtyKind.ID_BIRTH_DATE_MISMATCH:
        days = pl.Series(values).str.to_date().cast(pl.Int32).to_numpy()
        offset = rng.integers(1, 900, n) * np.where(rng.random(n) < 0.5, -1, 1)
        moved = np.where(days + offset >= ctx.end, days - np.abs(offset), days + offset)
        return pl.Series(moved.astype(np.int32)).cast(pl.Date).cast(pl.String).to_list()
    if kind is DirtyKind.IMPOSSIBLE_DATE:
        if field.type is FieldType.PERIOD:
            return [f"{v[:4]}-{IMPOSSIBLE_MONTHS[s % 2]}"
                    for v, s in zip(values, shift, strict=True)]
        return [f"{v[:4]}-{IMPOSSIBLE_DAYS[s % len(IMPOSSIBLE_DAYS)]}"
                for v, s in zip(values, shift, strict=True)]
    if kind is DirtyKind.UNKNOWN_REGION:
        return [UNKNOWN_REGIONS[s % len(UNKNOWN_REGIONS)] for s in shift]
    if kind is DirtyKind.ENUM_OUT_OF_RANGE:
        return [next(o for o in OUT_OF_RANGE_VALUES if o not in field.values) for _ in values]
    if kind is DirtyKind.MISSING_REQUIRED:
        return [None] * n
    if kind is DirtyKind.NEGATIVE_AMOUNT:
        return [str(-max(int(v), 1)) for v in values]
    if kind is DirtyKind.UNKNOWN_ENTERPRISE:
        serial = PHANTOM_USCC_SERIAL + ctx.take("phantom_enterprise", n)
        individual = np.array([v.startswith("92") for v in values])
        region = np.array([int(v[2:8]) for v in values], dtype=np.int64)
        return usccs(individual, region, serial, rng.random(n) < 0.5).to_list()
    if kind is DirtyKind.UNKNOWN_PERSON:
        birth = (ctx.end - rng.integers(20 * 365, 90 * 365, n)).astype(np.int32)
        return phantom_id_numbers(rng, birth, rng.random(n) < 0.5).to_list()
    raise ValueError(f"no corruption for {kind}")
