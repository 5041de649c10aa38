"""Bulk writes for sweeps at city scale: ``COPY ... FROM STDIN`` on PostgreSQL (from Python rows,
or from a Polars frame as CSV written in Rust), a multi-row ``INSERT`` elsewhere, and id
allocation so rows written in bulk can reference each other. Everything runs on the caller's
connection, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Table, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``table``; returns the count."""
    if not rows:
        return 0
    columns = list(rows[0].keys())
    if is_postgres(connection):
        raw = connection.connection.driver_connection
        statement = f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN'
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:  # psycopg's C adaptation: faster than formatting text here
                copy.write_row([row[column] for column in columns])
    else:
        for start in range(0, len(rows), 5_000):
            connection.execute(insert(table), list(rows[start : start + 5_000]))
    return len(rows)


COPY_SLICE = 50_000  # rows per CSV slice: bounds the client memory of a large COPY


def copy_frame(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    """Insert the rows of ``frame`` (columns named like ``table``'s) into ``table``; returns the
    count. On PostgreSQL the frame is written as CSV by Polars and streamed to ``COPY``."""
    if frame.is_empty():
        return 0
    if not is_postgres(connection):
        for start in range(0, frame.height, 5_000):
            connection.execute(insert(table), frame.slice(start, 5_000).to_dicts())
        return frame.height
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    raw = connection.connection.driver_connection
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN WITH (FORMAT csv)'
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for start in range(0, frame.height, COPY_SLICE):
            copy.write(frame.slice(start, COPY_SLICE).write_csv(
                include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z",
                date_format="%Y-%m-%d",
            ))
    return frame.height


def where_in(
    connection: Connection, column: Any, values: Sequence[Any]
) -> Iterator[ColumnElement[bool]]:
    """Conditions selecting ``column`` in ``values``: one ``= ANY(array)`` parameter on
    PostgreSQL (no per-value rendering), IN-lists of 5,000 elsewhere."""
    if not values:
        return
    if is_postgres(connection):
        for start in range(0, len(values), 200_000):
            part = list(values[start : start + 200_000])
            yield column == any_(bindparam(None, part, type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), 5_000):
        yield column.in_(list(values[start : start + 5_000]))


def allocate_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table`` (sequence values on PostgreSQL)."""
    if count <= 0:
        return []
    if is_postgres(connection):
        result = connection.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('\"{table.name}\"', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return [row[0] for row in result]
    # SQLite: take the write lock first so the maximum cannot move under us.
    connection.execute(text(f'UPDATE "{table.name}" SET id = id WHERE 0'))
    top = connection.execute(text(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"')).scalar_one()
    return list(range(top + 1, top + 1 + count))


def chunks(values: Sequence[Any], size: int = 5_000) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
