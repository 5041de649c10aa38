"""The registry and replay commands end to end on a SQLite file: submit, four-eyes approval,
list/versions/show, preview against the version in force, retire, publish twice, and
``audit replay`` (identical, then different after an input is altered)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from app.db import engine_for
from tests.eligibility.registry_helpers import LONGEVITY_TEXT, longevity_paying
from tests.eligibility.test_cli import database
from tests.eligibility.test_repository import populate

runner = CliRunner()
__all__ = ["database"]  # fixture: a migrated SQLite file configured as the database


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def test_lifecycle_commands(database: str, tmp_path: Path) -> None:
    populate(engine_for(database))
    current = tmp_path / "longevity.yaml"
    current.write_text(LONGEVITY_TEXT, encoding="utf-8")
    code, out = run("policy", "submit", str(current), "--author", "officer.li", "--json")
    submitted = json.loads(out)
    assert code == 0 and submitted["state"] == "submitted"
    again = run("policy", "submit", str(current), "--author", "officer.wang", "--json")
    assert json.loads(again[1])["id"] == submitted["id"]  # identical text: the same version
    code, out = run("policy", "approve", "longevity-allowance", "--approver", "officer.li")
    assert code == 1 and "four eyes" in out
    code, out = run("policy", "approve", "longevity-allowance", "--approver", "approver.zhao",
                    "--effective-from", "2025-01-01", "--json")
    assert code == 0 and json.loads(out)["state"] == "approved"

    code, out = run("policy", "list", "--as-of", "2025-03-01", "--json")
    [summary] = json.loads(out)
    assert summary["in_force_hash"] == submitted["content_hash"]
    code, out = run("policy", "show", submitted["content_hash"][:12], "--json")
    assert code == 0 and json.loads(out)["text"] == LONGEVITY_TEXT
    code, out = run("policy", "versions", "longevity-allowance", "--json")
    assert [v["approved_by"] for v in json.loads(out)] == ["approver.zhao"]

    revision = tmp_path / "revision.yaml"
    revision.write_text(longevity_paying(8_800), encoding="utf-8")
    code, out = run("policy", "preview", str(revision), "--as-of", "2025-03-01", "--json")
    change = json.loads(out)["change"]
    assert code == 0 and change["against_version"] == submitted["content_hash"]
    assert change["cost_per_month_delta_fen"] == 1_300

    code, out = run("sweep", "--full", "--as-of", "2025-03-01", "--json")
    assert code == 0, out
    with engine_for(database).begin() as connection:
        decision_id = connection.execute(text(
            "SELECT id FROM decision WHERE policy_id = 'longevity-allowance' AND eligible "
            "ORDER BY id LIMIT 1")).scalar_one()
    code, out = run("audit", "replay", str(decision_id), "--json")
    assert code == 0 and json.loads(out)["outcome"] == "identical"
    with engine_for(database).begin() as connection:
        connection.execute(text("UPDATE decision SET parameters = '{}' WHERE id = :d"),
                           {"d": decision_id})
    code, out = run("audit", "replay", str(decision_id))
    assert code == 1 and "different" in out and "parameters.amount_70_79" in out

    code, out = run("policy", "retire", submitted["content_hash"], "--by", "approver.zhao")
    assert code == 0 and "retired" in out


def test_publish_twice(database: str) -> None:
    code, out = run("policy", "publish", "--json")
    assert code == 0 and all(p["created"] for p in json.loads(out))
    code, out = run("policy", "publish")
    assert code == 0 and "0 new versions approved" in out
