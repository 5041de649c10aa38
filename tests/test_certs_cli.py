"""``mianshen certs`` through typer's CliRunner on the certs sub-app (the root CLI imports the
data-platform modules that are merged separately), on both databases."""

from __future__ import annotations

import importlib
import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import typer
from typer.testing import CliRunner

from app.settings import get_settings


def _load_certs_cli() -> ModuleType:
    """``app.cli.certs`` itself; when the root ``app.cli`` package cannot be imported yet (it
    needs ``app.datahub.repository``/``service`` from a branch merged separately), load it under
    a bare stand-in package and drop the stand-in again so other tests see the real failure."""
    try:
        from app.cli import certs as imported

        return imported
    except ImportError:
        pass
    saved = {name: sys.modules.pop(name) for name in list(sys.modules)
             if name == "app.cli" or name.startswith("app.cli.")}
    stand_in = types.ModuleType("app.cli")
    stand_in.__path__ = [str(Path(__file__).resolve().parent.parent / "app" / "cli")]
    sys.modules["app.cli"] = stand_in
    try:
        module = importlib.import_module("app.cli.certs")
    finally:
        for name in [n for n in sys.modules if n == "app.cli" or n.startswith("app.cli.")]:
            del sys.modules[name]
        sys.modules.update(saved)
    return module


CERTS_CLI = _load_certs_cli()
app: typer.Typer = CERTS_CLI.app


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MIANSHEN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_keygen_issue_verify_revoke(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["keygen", "civil_affairs"]).exit_code == 0
    assert runner.invoke(app, ["keygen", "civil_affairs", "--algorithm", "ecdsa-p256"]
                         ).exit_code == 0
    issuers = json.loads(runner.invoke(app, ["issuers", "--json"]).output)
    assert [k["algorithm"] for k in issuers[0]["keys"]] == ["ed25519", "ecdsa-p256"]
    assert "private" not in json.dumps(issuers)
    issued = runner.invoke(app, ["issue", "elderly_card", "王秀英", "370602195001011234",
                                 "--issuer", "civil_affairs", "--valid-from", "2026-01-01"])
    assert issued.exit_code == 0, issued.output
    cert_id = issued.output.strip()
    listed = json.loads(runner.invoke(app, ["list", "--json"]).output)
    assert [c["cert_id"] for c in listed] == [cert_id] and listed[0]["holder"] == "王**"
    shown = json.loads(runner.invoke(app, ["show", cert_id, "--json"]).output)
    assert "王秀英" not in json.dumps(shown, ensure_ascii=False)
    ok = runner.invoke(app, ["verify", shown["token"], "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["valid"]
    out = tmp_path / "card.png"
    assert runner.invoke(app, ["qr", cert_id, "--out", str(out)]).exit_code == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    assert runner.invoke(app, ["revoke", cert_id, "--reason", "test"]).exit_code == 0
    revoked = runner.invoke(app, ["verify", cert_id, "--json"])
    assert revoked.exit_code == 1 and json.loads(revoked.output)["outcome"] == "revoked"


def test_errors_are_reported_not_raised(runner: CliRunner) -> None:
    unknown = runner.invoke(app, ["keygen", "nowhere"])
    assert (unknown.exit_code == 1 and unknown.exception is None) or isinstance(
        unknown.exception, SystemExit)
    no_key = runner.invoke(app, ["issue", "bus_card", "张三", "370602195001011234",
                                 "--issuer", "transport", "--valid-from", "2026-01-01"])
    assert no_key.exit_code == 1
    bad_date = runner.invoke(app, ["issue", "bus_card", "张三", "370602195001011234",
                                   "--issuer", "transport", "--valid-from", "soon"])
    assert bad_date.exit_code == 1
    assert runner.invoke(app, ["verify", "garbage"]).exit_code == 1
    assert runner.invoke(app, ["revoke", "1.2.156.3005.2.X", "--reason", "x"]).exit_code == 1


def test_status_list_and_import(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["keygen", "disabled_federation"]).exit_code == 0
    issued = runner.invoke(app, ["issue", "disability_card", "王秀英", "370602195001011234",
                                 "--issuer", "disabled_federation", "--valid-from", "2026-01-01"])
    token = json.loads(runner.invoke(app, ["show", issued.output.strip(), "--json"]).output)[
        "token"]
    issuers = tmp_path / "issuers.json"
    issuers.write_text(runner.invoke(app, ["issuers", "--json"]).output, encoding="utf-8")
    code = json.loads(issuers.read_text(encoding="utf-8"))[0]["code"]
    listed = json.loads(runner.invoke(app, ["status", code, "--json"]).output)
    assert listed["payload"]["type"] == "BitstringStatusList"
    lists = tmp_path / "lists.json"
    lists.write_text(json.dumps({code: listed["token"]}), encoding="utf-8")
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{token}\n{token[:-3]}abc\nnot-a-token\n", encoding="utf-8")
    args = ["import", str(tokens), "--issuers", str(issuers), "--status-lists", str(lists),
            "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"accepted": 1, "quarantined:unknown_key": 1,
                                        "quarantined:bad_token": 1}
    assert json.loads(runner.invoke(app, args).output) == json.loads(first.output)
    assert runner.invoke(app, ["import", str(tmp_path / "missing.txt"), "--issuers",
                               str(issuers)]).exit_code == 1
