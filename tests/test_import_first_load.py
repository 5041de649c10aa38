"""The PostgreSQL fast paths of an import: a first load into an empty table (one transaction,
indexes dropped and rebuilt, COPY FREEZE) leaves every index and unique key as it was and steps
aside for a reader holding the table; a re-import finds held rows by natural key and row hash
before encrypting anything, for keys of every type."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from app.datahub import service
from app.datahub.schemas import DatasetCounts
from app.db import engine_for
from app.privacy import keyring
from tests import citizens
from tests.conftest import truncate_all


@pytest.fixture
def city(tmp_path: Path) -> Path:
    directory = tmp_path / "city"
    directory.mkdir()
    return directory


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """The first-load path is PostgreSQL's: these tests run on PostgreSQL only."""
    engine = engine_for(pg_url)
    yield engine
    truncate_all(engine)


def _definitions(engine: Engine, table: str) -> set[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t UNION "
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass)"
        ), {"t": table})
        return {tuple(row) for row in rows}


def test_a_first_load_rebuilds_every_index_and_the_unique_key_holds(
    pg_engine: Engine, city: Path
) -> None:
    before = _definitions(pg_engine, "person")
    assert any("UNIQUE (subject_key)" in definition for _name, definition in before)
    citizens.write_csv(city, "person", [citizens.person(n) for n in range(1, 8)])
    report = service.import_path(pg_engine, city, batch_rows=3)
    assert report.errors == {} and report.datasets["person"] == DatasetCounts(loaded=7)
    assert _definitions(pg_engine, "person") == before
    with pg_engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(connection.execute(text(
            "EXPLAIN SELECT id FROM person WHERE subject_key = 'x'"
        )).scalars())
        assert "person_subject_key_key" in plan
    duplicate = (
        "INSERT INTO person (subject_key, sex, birth_date, region_code, status, source_dept, "
        "as_of, row_hash, updated_at) SELECT subject_key, sex, birth_date, region_code, status, "
        "source_dept, as_of, 'other', now() FROM person LIMIT 1"
    )
    with pytest.raises(IntegrityError), pg_engine.begin() as connection:
        connection.execute(text(duplicate))


def test_a_reader_holding_the_table_gets_batch_by_batch_writes_instead(
    pg_engine: Engine, city: Path, pg_url: str
) -> None:
    citizens.write_csv(city, "person", [citizens.person(n) for n in range(1, 6)])
    with psycopg.connect(pg_url) as reader:  # a transaction that has read the table
        assert reader.execute("SELECT count(*) FROM person").fetchone() == (0,)
        report = service.import_path(pg_engine, city, batch_rows=2)
        assert report.errors == {} and report.datasets["person"] == DatasetCounts(loaded=5)
        assert reader.execute("SELECT count(*) FROM person").fetchone() == (5,)  # not blocked
        reader.rollback()


def test_a_reimport_finds_the_changed_row_of_a_text_and_integer_key(
    engine: Engine, city: Path
) -> None:
    citizens.write_csv(city, "enterprise", [citizens.enterprise(n) for n in range(1, 4)])
    taxes = [
        {"uscc": citizens.credit_code(n), "year": str(year), "annual_revenue_fen": "100000",
         "arrears_fen": "0", "source_dept": "tax", "as_of": citizens.AS_OF}
        for n in range(1, 4) for year in (2024, 2025)
    ]
    citizens.write_csv(city, "tax_status", taxes)
    first = service.import_path(engine, city)
    assert first.errors == {} and first.datasets["tax_status"] == DatasetCounts(loaded=6)
    taxes[3] = {**taxes[3], "arrears_fen": "2500"}
    citizens.write_csv(city, "tax_status", taxes)
    again = service.import_path(engine, city)
    assert again.datasets["enterprise"] == DatasetCounts(unchanged=3)
    assert again.datasets["tax_status"] == DatasetCounts(loaded=1, unchanged=5)
    with engine.connect() as connection:
        arrears = connection.execute(text(
            "SELECT year, arrears_fen FROM tax_status WHERE uscc = :u ORDER BY year"
        ), {"u": citizens.credit_code(2)}).all()
    assert [tuple(row) for row in arrears] == [(2024, 0), (2025, 2500)]


def test_a_reimport_of_a_changed_personal_field_is_encrypted_again(
    engine: Engine, city: Path
) -> None:
    rows = [citizens.person(n) for n in range(1, 4)]
    citizens.write_csv(city, "person", rows)
    service.import_path(engine, city)
    rows[1] = {**rows[1], "mobile": "13900000002"}
    citizens.write_csv(city, "person", rows)
    again = service.import_path(engine, city)
    assert again.datasets["person"] == DatasetCounts(loaded=1, unchanged=2)
    with engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT mobile_index, pii FROM person WHERE subject_key = :k"
        ), {"k": keyring().subject_key(rows[1]["id_number"])}).one()
    assert stored[0] == keyring().mobile_index("13900000002")
    assert keyring().decrypt_json(stored[1])["mobile"] == "13900000002"


def test_a_role_that_does_not_own_the_table_gets_batch_by_batch_writes(
    pg_engine: Engine, city: Path, pg_url: str
) -> None:
    """An application role with every data privilege but no ownership may not drop indexes:
    the import falls back to batch writes instead of failing."""
    role = f"import_writer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        admin.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
    role_url = pg_url.replace("://postgres@", f"://{role}@")
    try:
        citizens.write_csv(city, "person", [citizens.person(n) for n in range(1, 6)])
        report = service.import_path(engine_for(role_url), city, batch_rows=2)
        assert report.errors == {} and report.datasets["person"] == DatasetCounts(loaded=5)
    finally:
        engine_for(role_url).dispose()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
    with pg_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM person")).scalar() == 5


def test_an_index_that_cannot_be_rebuilt_leaves_nothing_loaded(
    pg_engine: Engine, city: Path
) -> None:
    """A unique index validation knows nothing about (one person per region) is dropped for
    the load and fails when rebuilt: the commit fails, nothing is loaded, the index stays."""
    with pg_engine.begin() as connection:
        connection.execute(text("CREATE UNIQUE INDEX one_per_region ON person (region_code)"))
    try:
        before = _definitions(pg_engine, "person")
        citizens.write_csv(city, "person", [citizens.person(n) for n in range(1, 4)])
        report = service.import_path(pg_engine, city, batch_rows=2)
        assert "nothing of the file was loaded" in report.errors["person.csv"]
        assert "UniqueViolation" in report.errors["person.csv"]
        assert report.datasets["person"] == DatasetCounts()
        assert _definitions(pg_engine, "person") == before
        with pg_engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM person")).scalar() == 0
    finally:
        with pg_engine.begin() as connection:
            connection.execute(text("DROP INDEX one_per_region"))
