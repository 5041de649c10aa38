"""Migrations are the only way the schema is made: they go up and down on both databases and
produce exactly the tables the models declare."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlmodel import SQLModel

from app import migrations
from app.db import engine_for


def _tables(url: str) -> set[str]:
    return set(inspect(engine_for(url)).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_every_model_table(db_url: str) -> None:
    assert _tables(db_url) == set(SQLModel.metadata.tables)


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    migrations.downgrade(db_url, "base")
    assert _tables(db_url) == set()
    assert migrations.current(db_url) is None
    migrations.upgrade(db_url)
    assert _tables(db_url) == set(SQLModel.metadata.tables)


def test_models_match_migrations(db_url: str) -> None:
    """Autogenerate against the migrated schema finds nothing to change."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine_for(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
