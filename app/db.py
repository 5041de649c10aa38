"""Database engine and session. The edge (CLI command, request dependency, task) owns the
transaction through :func:`session_scope`; services only flush. :func:`database_or_503` turns
"the database refuses connections or has none free" into a 503 for the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from app.errors import ServiceUnavailable
from app.settings import get_settings

# Connection refused, too many clients, server gone, pool timed out (no connection free).
UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError, sa_exc.TimeoutError, psycopg.OperationalError)
UNAVAILABLE_MESSAGE = "服务暂时不可用,请稍后再试"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@lru_cache
def engine_for(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A pooled connection in autocommit mode for the hot read paths (a session look-up, a
    citizen's benefit list): no BEGIN, COMMIT or reset ROLLBACK round trips around a single
    statement; a write on it commits at once."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def get_engine() -> Engine:
    return engine_for(get_settings().effective_database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def database_or_503() -> Iterator[None]:
    """Raise :class:`ServiceUnavailable` (503, the standard error body) instead of a 500 when
    the database cannot be reached or its pool has no connection free. The error is logged by
    its type only by the caller's handler; the driver message stays out of the answer."""
    try:
        yield
    except UNAVAILABLE as error:
        raise ServiceUnavailable(f"database unavailable: {type(error).__name__}",
                                 UNAVAILABLE_MESSAGE) from error


def copy_insert_new(session: Session, table: str, rows: list[dict[str, Any]], conflict: str,
                    returning: str) -> list[tuple[Any, ...]]:
    """PostgreSQL bulk insert that skips rows whose ``conflict`` key exists: one ``COPY`` into a
    temporary copy of ``table`` (emptied at commit), then one ``INSERT ... SELECT ... ON CONFLICT
    (conflict) DO NOTHING RETURNING returning``; the returned rows of those written. A multi-row
    ``INSERT`` of tens of thousands of rows spends most of its time in SQL and parameters."""
    columns = list(rows[0])
    names = ", ".join(f'"{column}"' for column in columns)
    staging = f"{table}_batch"
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        # The columns only (no NOT NULL id, no default drawing on the id sequence).
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
                       f"AS SELECT * FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[column] for column in columns])
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} "
                       f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {returning}")
        written = [tuple(found) for found in cursor.fetchall()]
        cursor.execute(f"TRUNCATE {staging}")
    return written
