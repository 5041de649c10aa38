"""What goes wrong in an import stays contained: a failing batch is rolled back whole and a
re-run completes; an unreadable file is reported and harms no other dataset; odd CSV rows are
quarantined, not lost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.datahub import repository, service
from app.datahub.models import ImportBatch
from app.datahub.schemas import DatasetCounts
from app.db import session_scope
from app.privacy import keyring
from tests import citizens


@pytest.fixture
def city(tmp_path: Path) -> Path:
    directory = tmp_path / "city"
    directory.mkdir()
    return directory


@contextmanager
def refusing_region(engine: Engine, region: str) -> Iterator[None]:
    """A database constraint the validation does not know about: inserting a person of
    ``region`` fails inside the database, mid-batch."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text(
                "CREATE TRIGGER refuse_region BEFORE INSERT ON person "
                f"WHEN NEW.region_code = '{region}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            ))
        else:
            connection.execute(text(
                f"ALTER TABLE person ADD CONSTRAINT refuse_region CHECK (region_code <> '{region}')"
            ))
    try:
        yield
    finally:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(text("DROP TRIGGER refuse_region"))
            else:
                connection.execute(text("ALTER TABLE person DROP CONSTRAINT refuse_region"))


def _counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        held = repository.summary(session)
    return held["person"], held["quarantined"]


def test_a_failing_batch_is_rolled_back_whole_and_a_rerun_completes(
    engine: Engine, city: Path
) -> None:
    """Into a table that already holds rows, every batch is its own transaction."""
    citizens.write_csv(city, "person", [citizens.person(20)])
    assert service.import_path(engine, city).errors == {}
    rows = [citizens.person(number) for number in range(1, 11)]
    rows[4] = {**rows[4], "status": "alive"}  # row 5, batch 2: would be quarantined
    rows[6] = {**rows[6], "region_code": "440607"}  # row 7, batch 2: the database refuses it
    citizens.write_csv(city, "person", rows)
    with refusing_region(engine, "440607"):
        failed = service.import_path(engine, city, batch_rows=4)
    assert list(failed.errors) == ["person.csv"]
    assert "batch of rows 5-8 failed and was rolled back" in failed.errors["person.csv"]
    assert "the other batches are loaded" in failed.errors["person.csv"]
    held_before = keyring().subject_key(citizens.person(20)["id_number"])
    held_keys = _held_subject_keys(engine) - {held_before}
    batch_keys = [keyring().subject_key(row["id_number"]) for row in rows]
    assert set(batch_keys[:4]) <= held_keys  # batch 1 committed before batch 2 failed
    assert not set(batch_keys[4:8]) & held_keys  # nothing of the failed batch
    assert held_keys <= set(batch_keys[:4] + batch_keys[8:])  # batch 3 may have been in flight
    assert _counts(engine)[1] == 0  # row 5's quarantine entry went with its batch
    assert failed.datasets["person"] == DatasetCounts(loaded=len(held_keys))
    with session_scope(engine) as session:
        latest = select(ImportBatch).order_by(ImportBatch.started_at.desc())  # type: ignore[attr-defined]
        batch = session.exec(latest).first()
        assert batch is not None
        assert (batch.rows_read, batch.loaded, batch.finished_at) == (
            len(held_keys), len(held_keys), None
        )

    rerun = service.import_path(engine, city, batch_rows=4)
    assert rerun.errors == {}
    assert rerun.datasets["person"] == DatasetCounts(
        loaded=9 - len(held_keys), unchanged=len(held_keys), quarantined=1
    )
    assert _counts(engine) == (10, 1)


def test_a_failing_batch_of_a_first_load_rolls_back_the_whole_file(
    engine: Engine, city: Path
) -> None:
    """Into an empty table, PostgreSQL loads a file as one transaction (indexes rebuilt after);
    SQLite still commits batch by batch."""
    rows = [citizens.person(number) for number in range(1, 11)]
    rows[4] = {**rows[4], "status": "alive"}  # row 5, batch 2: would be quarantined
    rows[6] = {**rows[6], "region_code": "440607"}  # row 7, batch 2: the database refuses it
    citizens.write_csv(city, "person", rows)
    indexes = _indexes(engine)
    with refusing_region(engine, "440607"):
        failed = service.import_path(engine, city, batch_rows=4)
    assert list(failed.errors) == ["person.csv"]
    assert "batch of rows 5-8 failed and was rolled back" in failed.errors["person.csv"]
    assert _indexes(engine) == indexes
    if engine.dialect.name == "postgresql":
        assert "nothing of the file was loaded" in failed.errors["person.csv"]
        assert failed.datasets["person"] == DatasetCounts()
        assert _counts(engine) == (0, 0)
    rerun = service.import_path(engine, city, batch_rows=4)
    assert rerun.errors == {}
    assert _counts(engine) == (9, 1)
    assert rerun.datasets["person"].quarantined == 1
    assert _indexes(engine) == indexes


def _indexes(engine: Engine) -> set[tuple[str, ...]]:
    """The person table's indexes and key constraints, as the database describes them."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text("SELECT name, sql FROM sqlite_master "
                                           "WHERE tbl_name = 'person'"))
        else:
            rows = connection.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'person' UNION "
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'person'::regclass"
            ))
        return {tuple(row) for row in rows}


def _held_subject_keys(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT subject_key FROM person")).scalars())


def test_unreadable_files_are_reported_and_harm_no_other_dataset(
    engine: Engine, city: Path
) -> None:
    citizens.write_csv(city, "person", [citizens.person(1), citizens.person(2)])
    citizens.write_csv(city, "enterprise", [citizens.enterprise(1)])
    gbk = (city / "enterprise.csv").read_text(encoding="utf-8").encode("gbk")
    (city / "enterprise.csv").write_bytes(gbk)
    (city / "tax_status.csv").write_text("uscc,year,revenue\n", encoding="utf-8")
    (city / "hukou_move.csv").write_text("", encoding="utf-8")
    (city / "pets.csv").write_text("name\n", encoding="utf-8")
    (city / "_manifest.json").write_text("{}", encoding="utf-8")
    (city / "README.md").write_text("notes", encoding="utf-8")
    report = service.import_path(engine, city)
    assert report.datasets == {"person": DatasetCounts(loaded=2)}
    assert sorted(report.errors) == ["enterprise.csv", "hukou_move.csv", "pets.csv",
                                     "tax_status.csv"]
    assert report.errors["enterprise.csv"].startswith("enterprise.csv: not UTF-8 (invalid byte")
    assert report.errors["tax_status.csv"].startswith(
        "tax_status.csv: wrong header for dataset tax_status (unexpected columns revenue; "
        "missing columns annual_revenue_fen, arrears_fen, source_dept, as_of)"
    )
    assert report.errors["hukou_move.csv"] == "hukou_move.csv: empty file (no header row)"
    assert report.errors["pets.csv"].startswith("pets.csv: unknown dataset 'pets'")
    assert _counts(engine) == (2, 0)
    with session_scope(engine) as session:
        assert len(session.exec(select(ImportBatch)).all()) == 1


def test_a_missing_path_is_reported(engine: Engine, city: Path) -> None:
    report = service.import_path(engine, city / "nowhere")
    assert report.datasets == {}
    assert list(report.errors.values()) == [f"{city / 'nowhere'}: no such file or directory"]


def test_odd_csv_rows_are_quarantined_or_loaded_never_lost(engine: Engine, city: Path) -> None:
    rows: list[dict[str, Any]] = [citizens.person(n) for n in range(1, 4)]
    rows[1]["address"] = '佛山市禅城区"祖庙路"\n2号'  # quotes and a newline inside a field
    citizens.write_csv(city, "person", rows)
    content = (city / "person.csv").read_bytes()
    extra = ",".join(citizens.person(4).values()) + ",surplus\n"
    (city / "person.csv").write_bytes(b"\xef\xbb\xbf" + content + extra.encode())  # with a BOM
    report = service.import_path(engine, city)
    assert report.errors == {}
    assert report.datasets["person"] == DatasetCounts(loaded=3, quarantined=1)
    with session_scope(engine) as session:
        entries = repository.list_quarantine(session)
    assert [(e.row_number, e.reason) for e in entries] == [
        (4, "row has more fields than the header")
    ]
    with engine.connect() as connection:
        tokens = connection.execute(text("SELECT pii FROM person")).scalars().all()
    addresses = {keyring().decrypt_json(token)["address"] for token in tokens}
    assert '佛山市禅城区"祖庙路"\n2号' in addresses
