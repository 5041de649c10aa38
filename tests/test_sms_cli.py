"""``mianshen notifications send/list/stats`` on the embedded default (SQLite file, console
provider writing ``sms-outbox.log`` with the mobile masked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import migrations
from app.db import session_scope
from app.settings import get_settings
from notifications import service
from tests.sms_support import add_person, payment

# The CLI package imports every command group; the data group needs the import branch.
pytest.importorskip("app.datahub.synth")


def test_send_list_and_stats(tmp_path: Path) -> None:
    from app.cli import cli

    migrations.upgrade(get_settings().effective_database_url)
    with session_scope() as session:
        key = add_person(session, "440604195611221234", mobile="13812345678")
        service.enqueue(session, payment(key, grant_ref="cli-test"))
    runner = CliRunner()
    sent = runner.invoke(cli, ["notifications", "send", "--now", "2026-11-23T02:00", "--json"])
    assert sent.exit_code == 0 and json.loads(sent.output)["dispatch"]["sent"] >= 1
    listed = json.loads(
        runner.invoke(cli, ["notifications", "list", "--json", "--status", "sent"]).output
    )
    assert any(row["body"].startswith("【禅城区民政局】陈伯您好") for row in listed)
    stats = json.loads(runner.invoke(cli, ["notifications", "stats", "--json"]).output)
    assert any(batch["batch_ref"] == "pay-2026-11" for batch in stats)
    log = (Path(get_settings().home) / "sms-outbox.log").read_text()
    assert "138****5678" in log and "13812345678" not in log
