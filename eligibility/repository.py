"""Loading evaluation frames from the database (all queries of the eligibility package).

:func:`load_subject_data` reads every dataset a subject kind's view needs -- the base table and
the related tables -- into Polars frames in the evaluator's schema, optionally restricted to some
subject keys (then related rows are read only for those subjects). On PostgreSQL a full load
streams ``COPY (SELECT ...) TO STDOUT`` as CSV straight into Polars; restricted loads and SQLite
use plain SELECTs. Only pseudonymous keys and non-personal columns are read: the ``pii`` column
never leaves the database here.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from eligibility.frames import SubjectData, conform, empty_frame
from eligibility.views import frame_schema, view

CHUNK = 5_000  # keys per IN (...) query


def _select(name: str, order_by: str | None = None) -> str:
    query = "SELECT " + ", ".join(f'"{c}"' for c in frame_schema(name)) + f' FROM "{name}"'
    return query + (f' ORDER BY "{order_by}"' if order_by else "")


def _raw_schema(name: str) -> dict[str, pl.DataType]:
    """How the columns arrive from the database: periods as text, the rest as the frame wants."""
    schema = dict(frame_schema(name))
    from eligibility.frames import _period_columns

    for column in _period_columns(name):
        schema[column] = pl.String()
    return schema


def _load_copy(
    engine: Engine, name: str, order_by: str | None = None,
    where: tuple[str, Sequence[Any]] | None = None,
) -> pl.DataFrame:
    """The whole dataset, or the rows matching ``where`` (SQL condition, parameters)."""
    buffer = io.BytesIO()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        query = _select(name)
        if where is not None:
            query += f" WHERE {where[0]}"
        if order_by:
            query += f' ORDER BY "{order_by}"'
        statement = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)"
        with cursor.copy(statement, where[1] if where else None) as copy:
            for chunk in copy:
                buffer.write(chunk)
        raw.commit()
    finally:
        raw.close()
    if buffer.tell() == 0:
        return empty_frame(name)
    buffer.seek(0)
    frame = pl.read_csv(buffer, schema=_raw_schema(name))
    return conform(name, frame)


def _rows_to_frame(name: str, rows: Sequence[Any]) -> pl.DataFrame:
    raw_schema = _raw_schema(name)
    loose = {c: (pl.String() if d == pl.Date() else d) for c, d in raw_schema.items()}
    values = [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row) for row in rows]
    frame = pl.DataFrame(values, schema=loose, orient="row")
    return conform(name, frame)


def _load_select(
    engine: Engine,
    name: str,
    column: str | None = None,
    keys: Sequence[str] | None = None,
    order_by: str | None = None,
) -> pl.DataFrame:
    query = _select(name, order_by if keys is None else None)
    if keys is None:
        with engine.connect() as connection:
            rows = connection.execute(text(query)).all()
        return _rows_to_frame(name, rows)
    parts = []
    statement = text(query + f' WHERE "{column}" IN :keys').bindparams(
        bindparam("keys", expanding=True)
    )
    with engine.connect() as connection:
        for start in range(0, len(keys), CHUNK):
            chunk = list(keys[start : start + CHUNK])
            parts.append(_rows_to_frame(name, connection.execute(statement, {"keys": chunk}).all()))
    return pl.concat(parts) if parts else empty_frame(name)


def _load_keys(engine: Engine, name: str, column: str, keys: Sequence[str]) -> pl.DataFrame:
    """Rows whose ``column`` is one of ``keys``: on PostgreSQL one ``COPY`` with an array
    parameter (no per-key rendering), elsewhere ``IN`` lists in chunks."""
    if engine.dialect.name != "postgresql":
        return _load_select(engine, name, column, keys)
    if not keys:
        return empty_frame(name)
    return _load_copy(engine, name, None, (f'"{column}" = ANY(%s)', [list(keys)]))


def load_frame(engine: Engine, name: str, order_by: str | None = None) -> pl.DataFrame:
    if engine.dialect.name == "postgresql":
        return _load_copy(engine, name, order_by)
    return _load_select(engine, name, order_by=order_by)


def load_subject_data(engine: Engine, kind: str, keys: Sequence[str] | None = None) -> SubjectData:
    """Frames for every dataset of ``kind``'s view; only ``keys``' subjects when given."""
    v = view(kind)
    if keys is None:
        full = {
            name: load_frame(engine, name, v.key if name == v.base else None)
            for name in v.datasets()
        }
        return SubjectData(kind, full)
    base = _load_keys(engine, v.base, v.key, list(dict.fromkeys(keys))).sort(v.key)
    frames: dict[str, pl.DataFrame] = {v.base: base}
    for relation in v.relations.values():
        wanted = base.get_column(relation.subject_column).drop_nulls().unique().to_list()
        parts = [
            _load_keys(engine, relation.dataset, column, wanted)
            for column in relation.related_columns
        ]
        if relation.dataset in frames:
            parts.insert(0, frames[relation.dataset])
        frames[relation.dataset] = pl.concat(parts).unique(maintain_order=True)
    return SubjectData(kind, frames)


def _in_range(columns: Sequence[str], lo: str | None, hi: str | None) -> tuple[str, list[str]]:
    """An SQL condition: any of ``columns`` within [lo, hi), with its parameters."""
    parts, params = [], []
    for column in columns:
        bounds = []
        if lo is not None:
            bounds.append(f'"{column}" >= %s')
            params.append(lo)
        if hi is not None:
            bounds.append(f'"{column}" < %s')
            params.append(hi)
        parts.append("(" + (" AND ".join(bounds) or f'"{column}" IS NOT NULL') + ")")
    return " OR ".join(parts), params


def load_key_range(engine: Engine, kind: str, lo: str | None, hi: str | None) -> SubjectData | None:
    """Frames of the subjects whose key is in [lo, hi), read by key range on PostgreSQL, so a
    shard reads only its part of the data: the base rows by their key; each related row through
    its own key columns where the relation is keyed by the subject key, else (a child's mother,
    father, own registry row) by the values the shard's base rows hold, in one array-parameter
    COPY per column. ``None`` on SQLite. Reading those relations whole instead put the entire
    person table into every child shard's process (10M rows at 10M persons)."""
    v = view(kind)
    if engine.dialect.name != "postgresql":
        return None
    base = _load_copy(engine, v.base, v.key, _in_range([v.key], lo, hi))
    frames = {v.base: base}
    for relation in v.relations.values():
        if relation.subject_column == v.key:
            parts = [_load_copy(engine, relation.dataset, None,
                                _in_range(relation.related_columns, lo, hi))]
        else:
            wanted = base.get_column(relation.subject_column).drop_nulls().unique().to_list()
            parts = [_load_keys(engine, relation.dataset, column, wanted)
                     for column in relation.related_columns]
        if relation.dataset in frames and relation.dataset != v.base:
            parts.insert(0, frames[relation.dataset])
        frames[relation.dataset] = (
            parts[0] if len(parts) == 1 else pl.concat(parts).unique(maintain_order=True)
        )
    return SubjectData(kind, frames)


def find_keys(engine: Engine, name: str, column: str, value: str) -> list[str]:
    """Subject keys of dataset ``name`` whose ``column`` equals ``value`` (explain lookups)."""
    key = view("child").key if name == "birth_certificate" else column
    statement = text(f'SELECT "{key}" FROM "{name}" WHERE "{column}" = :value ORDER BY 1')
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(statement, {"value": value})]
