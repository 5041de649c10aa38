"""``mianshen explain DECISION_ID`` on decisions recorded by a real sweep with the bundled
catalog: the recorded explanation labelled in Chinese, and the provenance (policy id and version
hash, parameters, engine version, inputs with source department and as-of date), a tampered
input snapshot detected, and the usage errors of the two forms of ``explain``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
import typer
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app import ENGINE_VERSION
from app.cli import explain
from app.settings import get_settings
from eligibility.service import find_policy
from eligibility.sweeps.service import run_sweep
from tests.support import data


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("MIANSHEN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command("explain")(explain.explain)
    app.command("unused")(lambda: None)  # two commands: typer keeps the command name
    yield app
    get_settings.cache_clear()


def _decision(engine: Engine, subject: str, policy: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT id FROM decision WHERE subject_key = :s AND policy_id = :p AND is_current"),
            {"s": subject, "p": policy}).scalar_one())


def test_a_decision_is_explained_with_its_provenance(cli: typer.Typer, engine: Engine) -> None:
    chen = data.add_person(engine, 1, date(1950, 3, 1))
    run_sweep(date(2025, 11, 3), full=True, engine=engine)
    granted = _decision(engine, chen, "longevity-allowance")

    result = CliRunner().invoke(cli, ["explain", str(granted), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    policy = find_policy("longevity-allowance")
    assert found["policy"] == {"id": "longevity-allowance", "title": "高龄津贴",
                               "version": policy.version, "is_current_version": True}
    assert found["outcome"]["eligible"] and found["outcome"]["amount_fen"] > 0
    assert found["summary"].startswith("符合条件")
    assert found["engine_version"] == ENGINE_VERSION and found["as_of"] == "2025-11-03"
    assert found["parameters"] and found["is_current"] and found["inputs_intact"]
    described = {c["name"]: c["description"] for c in found["conditions"]}
    labels = {c.name: c.description for c in policy.document.conditions}
    assert described == {name: labels[name] for name in described} and len(described) >= 3
    assert "start_month" in found["details"]
    assert all(c["passed"] for c in found["conditions"])
    [person] = [i for i in found["inputs"] if i["dataset"] == "person"]
    assert (person["source_dept"], person["source_dept_zh"]) == ("public_security", "公安局")
    assert person["as_of"] == data.AS_OF.isoformat()
    assert person["fields"]["birth_date"] == "1950-03-01" and "pii" not in person["fields"]

    printed = CliRunner().invoke(cli, ["explain", str(granted)])
    assert printed.exit_code == 0 and "高龄津贴" in printed.output and "公安局" in printed.output

    with engine.begin() as connection:  # an altered snapshot no longer matches its hash
        connection.execute(text("UPDATE decision SET inputs = '{}' WHERE id = :i"), {"i": granted})
    tampered = json.loads(CliRunner().invoke(cli, ["explain", str(granted), "--json"]).output)
    assert tampered["inputs_intact"] is False


def test_an_ineligible_decision_names_the_failed_conditions(
    cli: typer.Typer, engine: Engine
) -> None:
    chen = data.add_person(engine, 1, date(1950, 3, 1))
    run_sweep(date(2025, 11, 3), full=True, engine=engine)
    data.update_person(engine, 1, region_code="440605")  # moved out of the district
    run_sweep(date(2025, 11, 4), engine=engine)
    ended = _decision(engine, chen, "longevity-allowance")

    found = json.loads(CliRunner().invoke(cli, ["explain", str(ended), "--json"]).output)
    assert not found["outcome"]["eligible"]
    failed = [c for c in found["conditions"] if not c["passed"]]
    assert failed and found["summary"] == "不符合条件:" + ";".join(
        c["description"] for c in failed) + "。"


def test_usage_errors(cli: typer.Typer) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["explain", "999999"])
    assert missing.exit_code == 1 and "not found" in missing.output
    assert runner.invoke(cli, ["explain", "longevity-allowance"]).exit_code == 2
    no_date = runner.invoke(cli, ["explain", "longevity-allowance", "440600195003011234"])
    assert no_date.exit_code == 2 and "--as-of" in no_date.output
