"""Importing dataset files into SQLite and PostgreSQL: dirty rows quarantined with their
reasons, the rest loaded, re-imports change nothing, references resolve across datasets."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.datahub import repository, service
from app.datahub.schemas import DatasetCounts, ImportReport
from app.db import session_scope
from app.privacy import keyring
from tests import citizens


@pytest.fixture
def city(tmp_path: Path) -> Path:
    """A directory for dataset files (the SQLite database lives next to it, not in it)."""
    directory = tmp_path / "city"
    directory.mkdir()
    return directory


def _import(engine: Engine, path: Path, batch_rows: int = 1000) -> ImportReport:
    return service.import_path(engine, path, batch_rows=batch_rows)


def _quarantine(engine: Engine, dataset: str | None = None) -> list[tuple[str, int, str]]:
    with session_scope(engine) as session:
        entries = repository.list_quarantine(session, dataset=dataset, limit=1000)
    return [(e.file_name, e.row_number, e.reason) for e in entries]


def _summary(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return repository.summary(session)


def _snapshot(engine: Engine, table: str, key: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT {key}, updated_at, batch_id, row_hash, pii FROM {table} ORDER BY {key}")
        )
        return [tuple(row) for row in rows]


def _wrong_check(number: str) -> str:
    return number[:-1] + ("1" if number.endswith("0") else "0")


def _persons(count: int) -> list[dict[str, Any]]:
    return [citizens.person(number) for number in range(1, count + 1)]


def test_dirty_rows_are_quarantined_with_their_reason_and_the_rest_loads(
    engine: Engine, city: Path
) -> None:
    rows = _persons(6)
    good = rows[0]
    rows += [
        {**good, "name": "冒名"},  # row 7: same ID number as row 1
        citizens.person(7, birth_date="1950-01-02"),  # row 8: disagrees with the ID number
        citizens.person(8, region_code="449999"),  # row 9
        citizens.person(9, as_of="2023-02-30"),  # row 10
        citizens.person(10, id_number=_wrong_check(citizens.person(10)["id_number"])),  # row 11
        citizens.person(11),  # row 12: good
    ]
    citizens.write_csv(city, "person", rows)
    report = _import(engine, city / "person.csv", batch_rows=4)
    assert report.errors == {}
    assert report.datasets == {"person": DatasetCounts(loaded=7, unchanged=0, quarantined=5)}
    reasons = {row: reason for _file, row, reason in _quarantine(engine)}
    assert reasons[7] == "duplicate of row 1 (same id_number)"
    assert reasons[8].startswith("birth_date: 1950-01-02 disagrees with the birth date in id_")
    assert reasons[9] == 'region_code: unknown region code (GB/T 2260): "449999"'
    assert reasons[10] == 'as_of: not a valid ISO date (YYYY-MM-DD, years 1800-2199): "2023-02-30"'
    assert reasons[11].startswith("id_number: check character does not match (GB 11643")
    assert {file for file, _row, _reason in _quarantine(engine)} == {"person.csv"}
    assert _summary(engine)["person"] == 7
    assert _summary(engine)["quarantined"] == 5


def test_reimport_changes_nothing_and_a_changed_row_is_loaded_once(
    engine: Engine, city: Path
) -> None:
    rows = [*_persons(5), citizens.person(6, status="gone")]
    citizens.write_csv(city, "person", rows)
    first = _import(engine, city)
    before = _snapshot(engine, "person", "subject_key")
    again = _import(engine, city)
    assert first.datasets["person"] == DatasetCounts(loaded=5, unchanged=0, quarantined=1)
    assert again.datasets["person"] == DatasetCounts(loaded=0, unchanged=5, quarantined=1)
    assert _snapshot(engine, "person", "subject_key") == before
    assert len(_quarantine(engine)) == 1

    rows[2] = {**rows[2], "address": "佛山市禅城区新地址1号"}
    citizens.write_csv(city, "person", rows)
    changed = _import(engine, city)
    assert changed.datasets["person"] == DatasetCounts(loaded=1, unchanged=4, quarantined=1)
    after = _snapshot(engine, "person", "subject_key")
    differing = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(differing) == 1
    old, new = differing[0]
    assert new[1] > old[1] and new[2] != old[2]  # updated_at and batch_id moved
    key = keyring().subject_key(rows[2]["id_number"])
    assert new[0] == key and keyring().decrypt_json(new[4])["address"] == "佛山市禅城区新地址1号"
    assert _import(engine, city).datasets["person"].loaded == 0


def test_jsonl_and_csv_hold_the_same_rows(engine: Engine, city: Path) -> None:
    as_jsonl, as_csv = city / "jsonl", city / "csv"
    as_jsonl.mkdir()
    as_csv.mkdir()
    persons = _persons(4)
    citizens.write_jsonl(as_jsonl, "person", persons)
    with (as_jsonl / "person.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"id_number": "broken\n')
        handle.write('["a", "list"]\n')
        handle.write('{"id_number": "x", "nickname": "阿文", "grade": 2}\n')
    report = _import(engine, as_jsonl)
    assert report.datasets["person"] == DatasetCounts(loaded=4, unchanged=0, quarantined=3)
    reasons = [reason for _file, _row, reason in _quarantine(engine)]
    assert reasons[0] == "row is not valid JSON"
    assert reasons[1] == "row is not a JSON object"
    assert reasons[2].startswith("unexpected fields nickname, grade; id_number: not a resident")
    citizens.write_csv(as_csv, "person", persons)
    assert _import(engine, as_csv).datasets["person"] == DatasetCounts(unchanged=4)


def test_jsonl_numbers_are_accepted_as_values(engine: Engine, city: Path) -> None:
    citizens.write_csv(city, "enterprise", [citizens.enterprise(1)])
    contribution: dict[str, Any] = {**citizens.ui_contribution(1), "insured_headcount": 25,
                                    "layoffs": 0, "contribution_fen": 1250000}
    citizens.write_jsonl(city, "ui_contribution", [contribution])
    report = _import(engine, city)
    assert report.datasets["ui_contribution"] == DatasetCounts(loaded=1)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT insured_headcount, layoffs FROM ui_contribution"))
        assert stored.one() == (25, 0)


def test_references_resolve_across_datasets_of_one_directory(
    engine: Engine, city: Path
) -> None:
    persons = _persons(3)
    citizens.write_csv(city, "person", persons)
    citizens.write_csv(city, "enterprise", [
        citizens.enterprise(1), citizens.enterprise(2, size_class="huge"),  # 2 is quarantined
    ])
    citizens.write_csv(city, "ui_contribution", [
        citizens.ui_contribution(1), citizens.ui_contribution(1, period="2024-06"),
        citizens.ui_contribution(2), citizens.ui_contribution(3),
    ])
    disability = {
        "id_number": persons[0]["id_number"], "disability_type": "visual", "grade": "1",
        "valid_from": "2020-01-01", "valid_to": "", "source_dept": "disabled_persons_federation",
        "as_of": citizens.AS_OF,
    }
    stranger = citizens.id_number(born=date(1980, 8, 8), sequence=11)
    citizens.write_jsonl(city, "disability_certificate", [
        disability, {**disability, "id_number": stranger},
    ])
    report = _import(engine, city)
    assert report.errors == {}
    assert list(report.datasets) == ["person", "enterprise", "disability_certificate",
                                     "ui_contribution"]
    assert report.datasets["ui_contribution"] == DatasetCounts(loaded=2, quarantined=2)
    assert report.datasets["disability_certificate"] == DatasetCounts(loaded=1, quarantined=1)
    assert _quarantine(engine, "ui_contribution") == [
        ("ui_contribution.csv", 3, "uscc: no enterprise with this value is held or in this "
                                   f'import: "{citizens.credit_code(2)}"'),
        ("ui_contribution.csv", 4, "uscc: no enterprise with this value is held or in this "
                                   f'import: "{citizens.credit_code(3)}"'),
    ]
    masked = stranger[:6] + "********" + stranger[-4:]
    assert _quarantine(engine, "disability_certificate") == [
        ("disability_certificate.jsonl", 2,
         f"id_number: no person with this value is held or in this import: {masked}"),
    ]


def test_personal_data_is_never_stored_in_plaintext(engine: Engine, city: Path) -> None:
    persons = [*_persons(3), citizens.person(4, mobile="10012345678")]  # quarantined: bad mobile
    citizens.write_csv(city, "person", persons)
    citizens.write_csv(city, "enterprise", [citizens.enterprise(1)])
    _import(engine, city)
    secrets = [value for row in persons
               for value in (row["id_number"], row["name"], row["mobile"], row["address"])]
    legal_rep = citizens.enterprise(1)
    secrets += [legal_rep["legal_rep_name"], legal_rep["legal_rep_id_number"]]
    tables = ["person", "enterprise", "quarantined_row", "import_batch"]
    with engine.connect() as connection:
        dump = "\n".join(
            str(tuple(row))
            for table in tables for row in connection.execute(text(f"SELECT * FROM {table}"))
        )
        pii = connection.execute(text("SELECT pii FROM person ORDER BY id")).scalars().all()
        raw = connection.execute(text("SELECT raw FROM quarantined_row")).scalar_one()
    assert all(secret not in dump for secret in secrets)
    ring = keyring()
    assert {ring.decrypt_json(token)["id_number"] for token in pii} == {
        row["id_number"] for row in persons[:3]
    }
    assert ring.decrypt_json(raw) == {k: v for k, v in persons[3].items() if v}
    database = engine.url.database or ""
    if engine.dialect.name == "sqlite":  # the file itself, write-ahead log included
        for path in (Path(database), Path(database + "-wal")):
            content = path.read_bytes() if path.exists() else b""
            assert all(secret.encode() not in content for secret in secrets)

