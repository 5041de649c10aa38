"""The log key: generated and stored encrypted by default, taken from settings when configured,
rotated without breaking earlier tree heads; and the periodic publishing task."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.audit import keys, tasks
from app.audit.models import AuditLogKey
from app.audit.verification import verify_log
from app.db import session_scope
from app.privacy import keyring
from app.settings import Settings, get_settings
from tests.audit_helpers import fill

SETTINGS_SEED = bytes(range(32))


@pytest.fixture
def configured(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings read from the environment, pointed at the test database."""
    monkeypatch.setenv("MIANSHEN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.delenv("MIANSHEN_AUDIT_SIGNING_KEY", raising=False)
    get_settings.cache_clear()


def _key_rows(engine: Engine) -> list[AuditLogKey]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditLogKey)))


def test_a_generated_key_is_stored_encrypted(engine: Engine) -> None:
    fill(engine, 2, publish_at=(2,))
    [row] = _key_rows(engine)
    assert row.origin == "generated" and row.private_key
    seed = keyring().decrypt(row.private_key)
    assert seed.hex() not in row.private_key
    derived = keys.public_key_hex(
        keys.Ed25519PrivateKey.from_private_bytes(seed).public_key())
    assert derived == row.public_key and keys.key_id_of(derived) == row.key_id


def test_rotation_to_a_settings_key_keeps_old_tree_heads_valid(
    configured: pytest.MonkeyPatch, engine: Engine
) -> None:
    fill(engine, 3, publish_at=(3,))
    configured.setenv("MIANSHEN_AUDIT_SIGNING_KEY", base64.b64encode(SETTINGS_SEED).decode())
    get_settings.cache_clear()
    fill(engine, 2, publish_at=(5,), start=3)  # entries 3 and 4, head of size 5 under the new key
    rows = {row.origin: row for row in _key_rows(engine)}
    assert set(rows) == {"generated", "settings"} and rows["settings"].private_key is None

    with session_scope(engine) as session:
        report = verify_log(session)
    assert report.ok and report.seals_checked and report.tree_heads_checked == 2

    configured.delenv("MIANSHEN_AUDIT_SIGNING_KEY")
    get_settings.cache_clear()
    with session_scope(engine) as session:
        unpinned = verify_log(session)
        pinned = verify_log(session, pinned_public_keys=[rows["settings"].public_key])
    assert not unpinned.ok and "not trusted" in unpinned.findings[0].problem
    assert pinned.ok and not pinned.seals_checked  # seals need the private half


def test_a_malformed_settings_key_is_refused(engine: Engine) -> None:
    settings = Settings(audit_signing_key=base64.b64encode(b"short").decode())  # type: ignore[arg-type]
    with session_scope(engine) as session, pytest.raises(ValueError, match="32-byte"):
        keys.trusted_keys(session, settings=settings)


def test_the_periodic_task_publishes_only_when_the_log_grew(
    configured: pytest.MonkeyPatch, engine: Engine
) -> None:
    assert tasks.publish_tree_head.name == "audit.publish_tree_head"
    fill(engine, 4)
    first = tasks.publish_tree_head()
    assert first["tree_size"] == 4
    assert tasks.publish_tree_head_now()["id"] == first["id"]
    fill(engine, 1, start=4)
    assert tasks.publish_tree_head()["tree_size"] == 5
