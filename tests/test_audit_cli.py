"""``mianshen audit`` end to end through the real CLI on both databases: publish, verify (exit 0,
then exit 1 naming the first bad entry after tampering), prove (its JSON accepted by the
standalone verifier), consistency, and clear errors for what does not exist."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.settings import get_settings
from tests.audit_helpers import fill, tampering

try:
    from app.cli import cli
except ImportError as error:  # pragma: no cover - depends on other branches being merged
    # ``app.cli`` imports ``app.cli.data``/``demo``, which use ``app.datahub.service``/``synth``
    # from the data-platform branch; until it is merged the root CLI cannot be imported.
    pytest.skip(f"the mianshen CLI cannot be imported here: {error}", allow_module_level=True)

VERIFIER = Path(__file__).resolve().parent.parent / "docs" / "audit-verifier.py"


@pytest.fixture
def mianshen(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI pointed at the test database."""
    monkeypatch.setenv("MIANSHEN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def _json(runner: CliRunner, *args: str) -> tuple[int, Any]:
    code, output = _invoke(runner, *args, "--json")
    return code, json.loads(output)


def test_publish_verify_prove(mianshen: CliRunner, engine: Engine, tmp_path: Path) -> None:
    fill(engine, 9, publish_at=(4,))
    code, head = _json(mianshen, "audit", "sth")
    assert code == 0 and head["tree_size"] == 9

    code, report = _json(mianshen, "audit", "verify")
    assert code == 0 and report["ok"] and report["entries_checked"] == 9
    (tmp_path / "kept.json").write_text(json.dumps(head))
    code, report = _json(mianshen, "audit", "verify", "--tree-head", str(tmp_path / "kept.json"))
    assert code == 0 and report["tree_heads_checked"] == 3
    code, output = _invoke(mianshen, "audit", "verify")
    assert code == 0 and "OK" in output

    code, proof = _json(mianshen, "audit", "prove", "decision:D-000006")
    assert code == 0 and proof["leaf_index"] == 6 and proof["tree_size"] == 9
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    accepted = subprocess.run(
        [sys.executable, str(VERIFIER), str(tmp_path / "proof.json"),
         "--public-key", proof["public_key"]], capture_output=True, text=True, check=False)
    assert accepted.returncode == 0, accepted.stdout

    code, consistency = _json(mianshen, "audit", "consistency", "4", "9")
    assert code == 0 and consistency["verified"]


def test_verify_fails_naming_the_first_bad_entry(mianshen: CliRunner, engine: Engine) -> None:
    fill(engine, 9, publish_at=(9,))
    with tampering(engine) as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
    code, report = _json(mianshen, "audit", "verify")
    assert code == 1 and not report["ok"] and report["first_bad_entry"] == 3
    code, output = _invoke(mianshen, "audit", "verify")
    assert code == 1 and "FAILED" in output and "first bad entry: 3" in output


def test_errors_are_reported_not_raised(mianshen: CliRunner, engine: Engine) -> None:
    fill(engine, 2)
    code, output = _invoke(mianshen, "audit", "prove", "1")
    assert code == 1 and "audit sth" in output
    code, output = _invoke(mianshen, "audit", "prove", "payment:nope")
    assert code == 1 and "no audit entry" in output
    code, output = _invoke(mianshen, "audit", "consistency", "1", "2")
    assert code == 1 and "no signed tree head of size" in output
