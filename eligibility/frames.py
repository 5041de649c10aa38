"""The data an evaluation runs on: one Polars frame per catalog dataset, in the columns and dtypes
``views.frame_schema`` gives.

- :class:`SubjectData` holds them for one subject kind;
- :func:`conform` casts any frame to the expected schema (missing optional columns are null);
- :func:`restrict` keeps only some subjects' rows -- base rows by key, related rows through the
  relation's join columns -- and is how a single-subject evaluation gets its data;
- :func:`from_inline` builds frames from a policy test case's inline data, with defaults for
  fields the test does not care about.

Reading from the database is ``repository``'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from app.datahub.catalog import dataset
from app.datahub.regions import LOCAL_REGION
from eligibility.expr.constants import parse_period
from eligibility.expr.types import Kind
from eligibility.views import SubjectView, frame_schema, view


@dataclass
class SubjectData:
    kind: str
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def view(self) -> SubjectView:
        return view(self.kind)

    def frame(self, name: str) -> pl.DataFrame:
        found = self.frames.get(name)
        return found if found is not None else empty_frame(name)

    @property
    def base(self) -> pl.DataFrame:
        return self.frame(self.view.base)

    def subject_count(self) -> int:
        return self.base.height


def empty_frame(name: str) -> pl.DataFrame:
    return pl.DataFrame(schema=frame_schema(name))


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly the evaluator's columns and dtypes for dataset ``name``."""
    schema = frame_schema(name)
    columns = []
    for column, dtype in schema.items():
        if column not in frame.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(column))
        elif column in _period_columns(name) and frame.schema[column] == pl.String:
            columns.append(_period_from_text(pl.col(column)).alias(column))
        elif dtype == pl.Date() and frame.schema[column] == pl.String:
            columns.append(pl.col(column).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
        else:
            columns.append(pl.col(column).cast(dtype, strict=False))
    return frame.select(columns)


def _period_columns(name: str) -> set[str]:
    return {f.name for f in dataset(name).fields if f.type.value == "period"}


def _period_from_text(column: pl.Expr) -> pl.Expr:
    year = column.str.slice(0, 4).cast(pl.Int64, strict=False)
    month = column.str.slice(5, 2).cast(pl.Int64, strict=False)
    return pl.when(month.is_between(1, 12)).then(year * 12 + month - 1)


def restrict(data: SubjectData, keys: list[str]) -> SubjectData:
    """Only the given subjects: their base rows and every related row that joins to them."""
    v = data.view
    base = data.base.filter(pl.col(v.key).is_in(pl.Series(keys, dtype=pl.String).implode()))
    frames: dict[str, pl.DataFrame] = {v.base: base}
    for rel in v.relations.values():
        values = base.get_column(rel.subject_column).drop_nulls().unique()
        related = data.frame(rel.dataset)
        test = pl.lit(False)
        for column in rel.related_columns:
            test = test | pl.col(column).is_in(values.implode()).fill_null(False)
        part = related.filter(test)
        if rel.dataset in frames and rel.dataset != v.base:
            part = pl.concat([frames[rel.dataset], part]).unique(maintain_order=True)
        frames[rel.dataset] = part
    return SubjectData(data.kind, frames)


# -- exchange files (the synthetic city, department CSVs) -------------------------------------


def from_exchange_files(
    folder: Path,
    kind: str,
    subject_key: Callable[[str], str] | None = None,
) -> SubjectData:
    """Frames read straight from ``<dataset>.csv`` exchange files (e.g. the synthetic city):
    ID numbers become keys through ``subject_key`` (default: the keyring's pseudonymous key),
    personal columns are dropped, values that do not parse become missing. As the import does,
    a row without its natural key is dropped and a later row with the natural key of an earlier
    one is a duplicate and dropped (otherwise a duplicated person is evaluated, and counted,
    twice). For benchmarks and previews without an import; the database path is
    ``repository``."""
    from app.privacy import keyring

    to_key = subject_key or keyring().subject_key
    frames: dict[str, pl.DataFrame] = {}
    for name in view(kind).datasets():
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        raw = _without_duplicates(pl.read_csv(path, infer_schema=False), name)
        renames = {}
        for spec in dataset(name).fields:
            if spec.type.value == "id_number" and spec.storage_column and spec.name in raw.columns:
                renames[spec.name] = spec.storage_column
        raw = raw.rename(renames)
        keys = [c for c in renames.values()]
        for column in keys:
            unique = raw.get_column(column).drop_nulls().unique()
            mapping = pl.DataFrame({column: unique, "~k": [to_key(v) for v in unique.to_list()]})
            raw = raw.join(mapping, on=column, how="left").drop(column).rename({"~k": column})
        frames[name] = conform(name, raw)
    return SubjectData(kind, frames)


def _without_duplicates(raw: pl.DataFrame, name: str) -> pl.DataFrame:
    key = [column for column in dataset(name).key if column in raw.columns]
    if not key:
        return raw
    return raw.drop_nulls(key).unique(subset=key, keep="first", maintain_order=True)


# -- inline test-case data ---------------------------------------------------------------------

INLINE_SUBJECT_KEY = "subject"


def _default(name: str, column: str, kind: Kind, values: tuple[str, ...], as_of: date) -> Any:
    if column == "status":
        return "active"
    if column in ("region_code", "birth_region"):
        return LOCAL_REGION
    if column == "as_of":
        return as_of
    if column == "source_dept":
        return dataset(name).departments[0].value
    if kind is Kind.ENUM:
        return values[0]
    if kind in (Kind.INT, Kind.MONEY):
        return 0
    if kind is Kind.DATE:
        return date(1970, 1, 1)
    if kind is Kind.PERIOD:
        return "1970-01"
    return None


def _row(name: str, given: dict[str, Any], as_of: date, where: str) -> dict[str, Any]:
    schema = frame_schema(name)
    spec = dataset(name)
    fields = {f.storage_column or f.name: f for f in spec.all_fields}
    unknown = sorted(set(given) - set(schema))
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {', '.join(unknown)} of {name}; fields: {', '.join(schema)}"
        )
    row: dict[str, Any] = {}
    for column in schema:
        f = fields.get(column)
        kind = Kind(f.type.value) if f and f.type.value in Kind._value2member_map_ else Kind.STRING
        values = f.values if f else ()
        value = (
            given[column]
            if column in given
            else (
                None
                if f is not None and not f.required and column not in ("source_dept", "as_of")
                else _default(name, column, kind, values, as_of)
            )
        )
        row[column] = _convert(value, kind, values, f"{where}.{column}")
    return row


def _convert(value: Any, kind: Kind, values: tuple[str, ...], where: str) -> Any:
    if value is None:
        return None
    try:
        if kind is Kind.DATE:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if kind is Kind.PERIOD:
            return parse_period(str(value))
        if kind in (Kind.INT, Kind.MONEY):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("expected a whole number")
            return value
        if kind is Kind.ENUM and str(value) not in values:
            raise ValueError(f"expected one of {', '.join(values)}")
    except ValueError as error:
        raise ValueError(f"{where}: {value!r}: {error}") from None
    return str(value)


def from_inline(
    kind: str, subject: dict[str, Any], related: dict[str, list[dict[str, Any]]], as_of: date
) -> SubjectData:
    """Frames for one subject described inline (a policy test case); ``ValueError`` on bad data."""
    v = view(kind)
    base_given = dict(subject)
    base_given.setdefault(v.key, INLINE_SUBJECT_KEY)
    rows: dict[str, list[dict[str, Any]]] = {}
    for rel_name, rel_rows in related.items():
        name = v.relation_aliases.get(rel_name, rel_name)
        rel = v.relations.get(name)
        if rel is None:
            raise ValueError(
                f"related.{rel_name}: unknown related dataset; {kind} has: {', '.join(v.relations)}"
            )
        if base_given.get(rel.subject_column) is None:
            base_given[rel.subject_column] = f"{name}-key"
        for i, given in enumerate(rel_rows or []):
            given = dict(given)
            if not any(given.get(c) for c in rel.related_columns):
                given[rel.related_columns[0]] = base_given[rel.subject_column]
            rows.setdefault(rel.dataset, []).append(
                _row(rel.dataset, given, as_of, f"related.{rel_name}[{i}]")
            )
    base_row = _row(v.base, base_given, as_of, "subject")
    frames = {v.base: pl.DataFrame([base_row], schema=frame_schema(v.base), orient="row")}
    for name, dataset_rows in rows.items():
        frames[name] = pl.DataFrame(dataset_rows, schema=frame_schema(name), orient="row")
    return SubjectData(kind, frames)
