"""A reference reading of the catalog's validation rules, used by the synthetic-city tests to
check that exactly the rows the manifest lists are invalid. It is deliberately independent of
the generator (python-stdnum for checksums, the catalog for everything else) and is not the
import service."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from app.datahub.catalog import DATASETS, DatasetSpec, FieldSpec, FieldType
from app.datahub.regions import REGIONS


def read_dataset(city: Path, spec: DatasetSpec) -> pl.DataFrame:
    return pl.read_csv(city / f"{spec.name}.csv", infer_schema=False)


def manifest(city: Path) -> dict:
    return json.loads((city / "_manifest.json").read_text(encoding="utf-8"))


@cache
def _birthplace_valid(region_and_year: str) -> bool:
    try:
        ric.get_birth_place(region_and_year + "01010000")
    except ValidationError:
        return False
    return True


def ric_valid(value: str) -> bool:
    """``ric.is_valid`` step by step (length, digits, check digit, birth date, birthplace), with
    the slow birthplace lookup cached per (region, year): same answer, a hundred times faster."""
    if len(value) != 18 or not value[:-1].isdigit() or value[-1] != ric.calc_check_digit(value):
        return False
    try:
        ric.get_birth_date(value)
    except ValidationError:
        return False
    return _birthplace_valid(value[:10])


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def value_problem(field: FieldSpec, value: str | None) -> str | None:
    if value is None or value == "":
        return "missing" if field.required else None
    kind = field.type
    if kind is FieldType.ID_NUMBER and not ric_valid(value):
        return "id"
    if kind is FieldType.USCC and not uscc.is_valid(value):
        return "uscc"
    if kind is FieldType.REGION and value not in REGIONS:
        return "region"
    if kind is FieldType.DATE and not _valid_date(value):
        return "date"
    if kind is FieldType.PERIOD and not (len(value) == 7 and _valid_date(value + "-01")):
        return "period"
    if kind is FieldType.ENUM and value not in field.values:
        return "enum"
    if kind is FieldType.MOBILE and not (len(value) == 11 and value.isdigit()):
        return "mobile"
    if kind in (FieldType.INT, FieldType.MONEY):
        try:
            number = int(value)
        except ValueError:
            return "int"
        if field.minimum is not None and number < field.minimum:
            return "minimum"
        if field.maximum is not None and number > field.maximum:
            return "maximum"
    return None


def row_problems(city: Path) -> dict[str, dict[int, str]]:
    """dataset → {1-based row number: first problem} under the catalog's rules, including
    ID-number/birth-date/sex agreement in the registry, references and repeated natural keys."""
    problems: dict[str, dict[int, str]] = {}
    known: dict[str, set[str]] = {}
    for spec in DATASETS:
        frame = read_dataset(city, spec)
        found: dict[int, str] = {}
        seen_keys: set[tuple[str | None, ...]] = set()
        for number, row in enumerate(frame.iter_rows(named=True), start=1):
            problem = None
            for field in spec.all_fields:
                problem = value_problem(field, row[field.name])
                value = row[field.name]
                if problem is None and field.ref and value and value not in known[field.ref]:
                    problem = "reference"
                if problem:
                    break
            if problem is None and spec.name == "person":
                id_number = row["id_number"]
                if ric.get_birth_date(id_number).isoformat() != row["birth_date"]:
                    problem = "birth_date"
                elif (int(id_number[16]) % 2 == 1) != (row["sex"] == "M"):
                    problem = "sex"
            key = tuple(row[k] for k in spec.key)
            if problem is None and key in seen_keys:
                problem = "duplicate"
            if problem:
                found[number] = problem
            else:
                seen_keys.add(key)
        problems[spec.name] = found
        for field in spec.fields:
            clean = frame.with_row_index("n", 1).filter(~pl.col("n").is_in(list(found)))
            known[f"{spec.name}.{field.name}"] = set(clean[field.name].drop_nulls().to_list())
    return problems
