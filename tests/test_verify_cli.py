"""``mianshen verify`` on both databases: the checks' outcomes and exit codes, nothing queried
printed back, and every check in the call log that ``verify calls`` shows auditors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.cli.verify import app
from app.settings import get_settings
from tests.verify_support import load_registry


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MIANSHEN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _json(runner: CliRunner, *args: str) -> tuple[int, object]:
    done = runner.invoke(app, [*args, "--json"])
    return done.exit_code, json.loads(done.output)


def test_verify_commands_and_call_log(runner: CliRunner, engine: Engine,
                                      tmp_path: Path) -> None:
    registry = load_registry(engine, tmp_path)
    code, person = _json(runner, "person", "陈一文", registry.alive)
    assert code == 0 and isinstance(person, dict) and person["outcome"] == "match"
    assert _json(runner, "person", "陈一", registry.alive)[0] == 1
    code, enterprise = _json(runner, "enterprise", registry.active_uscc,
                             "佛山市禅城区测试1有限公司", "李四")
    assert code == 0 and isinstance(enterprise, dict) and enterprise["outcome"] == "match"
    code, status = _json(runner, "status", registry.disabled, "disability")
    assert code == 0 and isinstance(status, dict) and status["facts"]["grade"] == 2
    code, education = _json(runner, "status", registry.alive, "education")
    assert code == 1 and isinstance(education, dict) and education["outcome"] == "unsupported"
    plain = runner.invoke(app, ["status", registry.alive, "social_assistance"])
    assert plain.exit_code == 0 and "recipient" in plain.output
    assert registry.alive not in plain.output
    assert runner.invoke(app, ["status", registry.alive, "horoscope"]).exit_code == 2

    code, calls = _json(runner, "calls", "--subject", registry.alive)
    assert code == 0 and isinstance(calls, list)
    assert [c["check_kind"] for c in calls] == [
        "status:social_assistance", "status:education", "person", "person"]
    assert all(c["caller_id"].startswith("cli:") for c in calls)
    table = runner.invoke(app, ["calls", "--kind", "enterprise"])
    assert table.exit_code == 0 and "enterprise" in table.output
    assert registry.active_uscc not in table.output
    assert runner.invoke(app, ["calls", "--since", "yesterday"]).exit_code == 2
