"""Alembic environment: migrations are the only way the schema is made, on SQLite and PostgreSQL.

The URL is ``config.attributes["url"]`` when called from code (tests, ``mianshen db``), else the
settings' effective database URL.
"""

from __future__ import annotations

from sqlmodel import SQLModel

import app.models_registry  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import context
from app.db import engine_for
from app.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.attributes.get("url") or get_settings().effective_database_url
    engine = engine_for(url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations()
