"""Database engine and session. The edge (CLI command, request dependency, task) owns the
transaction through :func:`session_scope`; services only flush."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from app.settings import get_settings


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


T = TypeVar("T")


def committed(session: Session, answer: T) -> T:
    """Commit the request's unit of work now and return ``answer``.

    ``db_session`` commits when the request's dependencies close, which FastAPI does after the
    answer has left: a client acting on the answer at once (a redirect after a form, a second
    click, a test reading the database) could miss the change. A handler that changes something
    returns through this instead."""
    session.commit()
    return answer
