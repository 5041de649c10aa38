"""Shared fixtures: real databases built by Alembic migrations.

``db_url`` is parametrised over SQLite (a fresh file per test) and PostgreSQL (a database of
this test run's own, migrated once, every table truncated after each test). PostgreSQL and
Redis are the real servers on 127.0.0.1; outside CI a test that needs one skips when it is
down, in CI (``CI=true``) it fails instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="mianshen-test-home-")
os.environ.setdefault("MIANSHEN_ENV", "test")
os.environ["MIANSHEN_HOME"] = _HOME
os.environ.pop("MIANSHEN_DATABASE_URL", None)
os.environ.pop("MIANSHEN_REDIS_URL", None)

import psycopg  # noqa: E402
import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import app.models_registry  # noqa: E402, F401
from app import migrations  # noqa: E402
from app.db import engine_for  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "MIANSHEN_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("MIANSHEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} unreachable: {error}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"mianshen_test_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unavailable("PostgreSQL", error)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrations.upgrade(url)
    yield url
    engine_for(url).dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def truncate_all(engine: Engine) -> None:
    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        migrations.upgrade(url)
        yield url
        engine_for(url).dispose()
        return
    url = request.getfixturevalue("pg_url")
    yield url
    truncate_all(engine_for(url))


@pytest.fixture
def engine(db_url: str) -> Engine:
    return engine_for(db_url)


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable("Redis", error)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture(autouse=True)
def fresh_auth() -> Iterator[None]:
    """Settings, throttle counters, the API key and session caches and the dashboard's held
    freshness figures start clean in every test."""
    from app.auth import apikeys, session_cache, throttle
    from app.console import figures
    from app.settings import get_settings

    yield
    get_settings.cache_clear()
    throttle._throttle_for.cache_clear()
    apikeys.forget_cached_keys()
    session_cache.clear()
    figures.forget_freshness()
