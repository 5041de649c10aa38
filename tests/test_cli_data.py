"""``mianshen data import / quarantine / summary --json`` through the real CLI, against the test
database named by ``MIANSHEN_DATABASE_URL``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.datahub.catalog import DATASETS
from app.settings import get_settings
from tests import citizens


@pytest.fixture
def cli_database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MIANSHEN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


@pytest.fixture
def city(tmp_path: Path) -> Path:
    directory = tmp_path / "city"
    directory.mkdir()
    citizens.write_csv(directory, "person", [citizens.person(1), citizens.person(2),
                                             citizens.person(3, sex="X")])
    citizens.write_csv(directory, "enterprise", [citizens.enterprise(1)])
    citizens.write_jsonl(directory, "ui_contribution", [citizens.ui_contribution(1),
                                                        citizens.ui_contribution(9)])
    return directory


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout


def test_import_quarantine_and_summary_as_json(cli_database: str, city: Path) -> None:
    code, output = _run("data", "import", str(city), "--json")
    assert code == 0, output
    assert json.loads(output) == {
        "person": {"loaded": 2, "unchanged": 0, "quarantined": 1},
        "enterprise": {"loaded": 1, "unchanged": 0, "quarantined": 0},
        "ui_contribution": {"loaded": 1, "unchanged": 0, "quarantined": 1},
    }
    code, output = _run("data", "import", str(city), "--json")
    assert json.loads(output)["person"] == {"loaded": 0, "unchanged": 2, "quarantined": 1}

    code, output = _run("data", "quarantine", "--json")
    assert code == 0
    entries = json.loads(output)
    assert [(e["dataset"], e["file_name"], e["row_number"]) for e in entries] == [
        ("person", "person.csv", 3), ("ui_contribution", "ui_contribution.jsonl", 2),
    ]
    assert entries[0]["reason"] == 'sex: "X" is not one of M, F'

    code, output = _run("data", "quarantine", "--json", "--dataset", "ui_contribution")
    assert [e["dataset"] for e in json.loads(output)] == ["ui_contribution"]

    code, output = _run("data", "summary", "--json")
    assert code == 0
    held = json.loads(output)
    assert list(held) == [spec.name for spec in DATASETS] + ["quarantined"]
    assert (held["person"], held["enterprise"], held["ui_contribution"]) == (2, 1, 1)
    assert held["quarantined"] == 2


def test_an_unreadable_file_fails_the_command_but_not_the_others(
    cli_database: str, city: Path
) -> None:
    (city / "tax_status.csv").write_bytes(b"uscc,year\n\xff\xfe\n")
    result = CliRunner().invoke(cli, ["data", "import", str(city), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["person"]["loaded"] == 2
    assert "tax_status.csv: not UTF-8" in result.stderr


def test_catalog_command_checks_the_document(tmp_path: Path) -> None:
    out = tmp_path / "catalog.md"
    assert _run("data", "catalog", "--out", str(out), "--check")[0] == 1
    assert _run("data", "catalog", "--out", str(out))[0] == 0
    assert _run("data", "catalog", "--out", str(out), "--check")[0] == 0
