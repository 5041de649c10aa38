"""Data-key rotation without downtime on both databases: after the new key becomes current,
``keys rotate-pii`` re-encrypts every encrypted column in batches while readers keep decrypting
and writers keep writing (a row changed meanwhile is not overwritten); afterwards the old key
can be removed and everything still decrypts, including the audit log's signing key."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.audit import service as audit
from app.cli import cli
from app.datahub import service as datahub
from app.db import session_scope
from app.personal_data import rotation
from app.privacy import Keyring, keyring
from app.settings import get_settings
from certs import service as certs
from certs.models import CertType
from tests import citizens
from tests.audit_helpers import decision

OLD = "old:" + base64.b64encode(b"o" * 32).decode()
NEW = "new:" + base64.b64encode(b"n" * 32).decode()


@pytest.fixture
def data_keys() -> Iterator[Callable[[str], None]]:
    before = os.environ.get("MIANSHEN_DATA_KEYS")

    def configure(value: str) -> None:
        os.environ["MIANSHEN_DATA_KEYS"] = value
        get_settings.cache_clear()

    yield configure
    if before is None:
        os.environ.pop("MIANSHEN_DATA_KEYS", None)
    else:
        os.environ["MIANSHEN_DATA_KEYS"] = before
    get_settings.cache_clear()


def _persons(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT id, pii FROM person ORDER BY id")).all())


def _city(engine: Engine, tmp_path: Path) -> list[dict[str, str]]:
    people = [citizens.person(n) for n in range(1, 41)]
    citizens.write_csv(tmp_path, "person", [*people, citizens.person(41, id_number="bad")])
    assert not datahub.import_path(engine, tmp_path).errors  # one row quarantined, encrypted
    with session_scope(engine) as session:
        certs.generate_department_key(session, "transport")
        certs.issue_certificate(session, CertType.BUS_CARD,
                                keyring().subject_key(people[0]["id_number"]), people[0]["name"],
                                "transport", date(2026, 1, 1), None, grant_ref="g-1")
        audit.append(session, "decision", decision(1))
        audit.publish_tree_head(session)
    return people


def test_rotation_while_the_application_reads_and_writes(
        engine: Engine, tmp_path: Path, data_keys: Callable[[str], None]) -> None:
    data_keys(OLD)
    people = _city(engine, tmp_path)
    data_keys(f"{NEW};{OLD}")  # step 2: the new key is current, the old one still decrypts
    ring = keyring()
    status = rotation.key_status(engine)
    assert status["person.pii"] == {"old": 40}
    assert status["quarantined_row.raw"] == {"old": 1}
    assert status["certificate.pii"] == {"old": 1} and status["audit_log_key.private_key"]

    stop, failures, reads = threading.Event(), [], [0]
    rewritten_by_app: dict[int, str] = {}

    def reader() -> None:
        while not stop.is_set():
            try:
                for token in _persons(engine).values():
                    ring.decrypt_json(token)
                    reads[0] += 1
            except Exception as error:  # reported below
                failures.append(error)
                return

    def writer() -> None:  # the application updating some people meanwhile
        for row_id in list(_persons(engine))[::5]:
            token = ring.encrypt_json({"name": f"新{row_id}", "id_number": "x"})
            with engine.begin() as connection:
                connection.execute(text("UPDATE person SET pii = :t WHERE id = :i"),
                                   {"t": token, "i": row_id})
            rewritten_by_app[row_id] = f"新{row_id}"

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    report = rotation.rotate(engine, batch_size=3)
    threads[1].join(timeout=120)
    stop.set()
    threads[0].join(timeout=120)
    assert not failures and reads[0] > 0
    assert report.active_kid == "new" and not report.unknown_key
    assert sum(report.rewritten.values()) >= 40 - len(rewritten_by_app)

    data_keys(NEW)  # step 4: the old key is gone, everything still decrypts
    only_new = keyring()
    assert only_new.ciphers.keys() == {"new"}
    assert all(set(per_kid) == {"new"} for per_kid in rotation.key_status(engine).values()
               if per_kid)
    names = {row_id: only_new.decrypt_json(token)["name"]
             for row_id, token in _persons(engine).items()}
    for row_id, name in rewritten_by_app.items():
        assert names[row_id] == name, "rotation overwrote a row the application had changed"
    untouched = [p["name"] for p in people]
    assert sum(1 for name in names.values() if name in untouched) == 40 - len(rewritten_by_app)
    with session_scope(engine) as session:  # the log key and department keys still sign
        size = audit.publish_tree_head(session).tree_size
        audit.append(session, "decision", decision(2))
        assert audit.publish_tree_head(session).tree_size == size + 1
        certs.issue_certificate(session, CertType.BUS_CARD, "b" * 32, "张三", "transport",
                                date(2026, 1, 1), None, grant_ref="g-2")


def test_the_cli_reports_status_and_is_safe_to_re_run(
        engine: Engine, tmp_path: Path, data_keys: Callable[[str], None],
        monkeypatch: pytest.MonkeyPatch) -> None:
    data_keys(OLD)
    _city(engine, tmp_path)
    data_keys(f"{NEW};{OLD}")
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    monkeypatch.setattr("app.cli.privacy.get_engine", lambda: engine)
    runner = CliRunner()
    before = json.loads(runner.invoke(cli, ["keys", "status", "--json"]).output)
    assert before["active_kid"] == "new" and before["columns"]["person.pii"] == {"old": 40}
    first = runner.invoke(cli, ["keys", "rotate-pii", "--batch-size", "7", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["rewritten"]["person.pii"] == 40
    again = json.loads(runner.invoke(cli, ["keys", "rotate-pii", "--json"]).output)
    assert again["rewritten"] == {}
    after = json.loads(runner.invoke(cli, ["keys", "status", "--json"]).output)
    assert after["columns"]["person.pii"] == {"new": 40}
    generated = runner.invoke(cli, ["keys", "generate", "k2026"]).output.strip()
    assert Keyring.from_secrets(generated, "x").active_kid == "k2026"
    assert runner.invoke(cli, ["keys", "generate", "bad.kid"]).exit_code == 2
