"""Department API keys over real HTTP on 127.0.0.1: the secret is never stored, a key resolves
to a department principal with its scopes, wrong / unknown / revoked keys are refused (a
revocation in another process within the cache time), and the per-key rate limit answers 429
with Retry-After, in-process and shared through Redis."""

from __future__ import annotations

import json
import time

import pytest
import redis
from sqlalchemy import event, text, update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.auth import apikeys
from app.auth.models import ApiKey
from app.auth.throttle import RedisThrottle
from app.cli import cli
from app.db import session_scope
from app.errors import ValidationFailed
from tests.auth_support import bearer, configure, new_key, served


def test_key_resolves_to_department_with_scopes_and_secret_is_not_stored(engine: Engine) -> None:
    secret = new_key(engine, "verify:person", "data:push", department="civil_affairs")
    key_id = secret.split("_")[1]
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM api_key")).mappings().one()
    assert secret.split("_", 2)[2] not in json.dumps({k: str(v) for k, v in stored.items()})
    assert stored["last_used_at"] is None
    with served(engine) as client:
        me = client.get("/api/v1/auth/me", headers=bearer(secret))
        assert me.status_code == 200
        assert me.json()["kind"] == "department"
        assert me.json()["roles"] == ["data:push", "verify:person"]
        assert me.json()["department"] == "civil_affairs"
        wrong = client.get("/api/v1/auth/me", headers=bearer(secret[:-2] + "xx"))
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "API密钥无效"
        unknown = client.get("/api/v1/auth/me", headers=bearer("msk_000000000000_abc"))
        assert unknown.status_code == 401
        assert client.get("/api/v1/auth/me", headers=bearer("nonsense")).status_code == 401
        assert client.get("/api/v1/auth/me").status_code == 401
    with session_scope(engine) as session:
        assert apikeys.list_keys(session)[0].last_used_at is not None
        assert apikeys.list_keys(session)[0].key_id == key_id


def test_unknown_scope_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(ValidationFailed):
        apikeys.create_key(session, "civil", ["verify:everything"])


def test_revocation_elsewhere_takes_effect_within_the_cache_time(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__API_KEY_CACHE_SECONDS="1.0")
    secret = new_key(engine, "verify:person")
    with served(engine) as client:
        assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 200
        # Another process revokes: this process's cache is not told.
        with session_scope(engine) as session:
            session.execute(update(ApiKey).values(enabled=False))
        revoked_at = time.monotonic()
        while client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 200:
            assert time.monotonic() - revoked_at < 3, "revocation not seen within 3 s"
            time.sleep(0.05)
        answer = client.get("/api/v1/auth/me", headers=bearer(secret))
        assert answer.status_code == 401 and answer.json()["error"]["message"] == "API密钥已停用"


def test_revocation_in_this_process_is_immediate(engine: Engine) -> None:
    secret = new_key(engine, "verify:person")
    with served(engine) as client:
        assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 200
        with session_scope(engine) as session:
            apikeys.revoke_key(session, secret.split("_")[1])
        assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401


def _burst(client: object, secret: str, count: int) -> list[int]:
    """``count`` requests inside one fresh second (the limit is a per-second window)."""
    time.sleep(1 - time.time() % 1 + 0.01)
    return [client.get("/api/v1/auth/me", headers=bearer(secret)).status_code  # type: ignore[attr-defined]
            for _ in range(count)]


def test_rate_limit_in_process(engine: Engine) -> None:
    secret = new_key(engine, "verify:person", rate=5)
    with served(engine) as client:
        statuses = _burst(client, secret, 8)
        assert statuses.count(200) == 5 and statuses.count(429) == 3, statuses
        limited = client.get("/api/v1/auth/me", headers=bearer(secret))
        if limited.status_code == 429:
            assert limited.headers["Retry-After"] == "1"
            assert "请求过于频繁" in limited.json()["error"]["message"]
        time.sleep(1.1)
        assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 200


@pytest.mark.redis
def test_rate_limit_shared_through_redis(
    engine: Engine, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_REDIS_URL=redis_url)
    secret = new_key(engine, "verify:person", rate=4)
    key_id = secret.split("_")[1]
    with served(engine) as client:
        statuses = _burst(client, secret, 6)
        # Another process sharing the same Redis sees this second's window already full.
        other = RedisThrottle(redis.Redis.from_url(redis_url)).hit(f"key:{key_id}", 4, 1)
    assert statuses.count(200) == 4 and statuses.count(429) == 2, statuses
    assert other >= 1


def test_cli_create_list_revoke(engine: Engine, db_url: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, MIANSHEN_DATABASE_URL=db_url)
    runner = CliRunner()
    created = runner.invoke(cli, ["apikeys", "create", "--department", "public_security",
                                  "--scope", "verify:person", "--scope", "verify:status",
                                  "--rate", "50"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("msk_")
    listed = runner.invoke(cli, ["apikeys", "list", "--json"])
    assert listed.exit_code == 0
    keys = json.loads(listed.output)
    assert keys[0]["scopes"] == ["verify:person", "verify:status"] and keys[0]["state"] == "active"
    assert secret.split("_", 2)[2] not in listed.output
    key_id = keys[0]["key_id"]
    assert runner.invoke(cli, ["apikeys", "revoke", key_id]).exit_code == 0
    again = runner.invoke(cli, ["apikeys", "revoke", key_id])
    assert again.exit_code == 1 and "already revoked" in again.output
    bad = runner.invoke(cli, ["apikeys", "create", "--department", "x", "--scope", "root"])
    assert bad.exit_code == 1 and "unknown or missing scopes" in bad.output
    assert json.loads(runner.invoke(cli, ["apikeys", "list", "--json"]).output)[0]["state"] == (
        "revoked")


def test_unknown_key_ids_are_cached_too(engine: Engine) -> None:
    """Random key ids cost one query per cache period, not one per request."""
    queries: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "api_key" in statement:
            queries.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with served(engine) as client:
            for _ in range(5):
                answer = client.get("/api/v1/auth/me", headers=bearer("msk_0123456789ab_nope"))
                assert answer.status_code == 401
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(queries) == 1


def _fresh_minute() -> None:
    """Start well inside a minute: the failure count is a per-minute window."""
    if time.time() % 60 > 45:
        time.sleep(60 - time.time() % 60 + 0.1)


def test_failed_keys_are_throttled_per_client_address(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__IP_API_KEY_FAILURES_PER_MINUTE="3")
    good = new_key(engine, "verify:person")
    key_id = good.split("_")[1]
    _fresh_minute()
    with served(engine) as client:
        wrong = [bearer(f"msk_{key_id}_guess{n}") for n in range(2)] + [bearer("msk_bad")]
        assert [client.get("/api/v1/auth/me", headers=h).status_code for h in wrong] == [401] * 3
        refused = client.get("/api/v1/auth/me", headers=bearer(f"msk_{key_id}_guess9"))
        assert refused.status_code == 429
        assert refused.json()["error"]["message"] == apikeys.TOO_MANY_FAILURES
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # The address is refused whatever it presents now, so a lucky guess would not pass.
        assert client.get("/api/v1/auth/me", headers=bearer(good)).status_code == 429
        assert client.get("/api/v1/health").status_code == 200  # anonymous use is untouched


def test_good_keys_do_not_count_as_failures(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__IP_API_KEY_FAILURES_PER_MINUTE="2")
    good = new_key(engine, "verify:person")
    _fresh_minute()
    with served(engine) as client:
        assert {client.get("/api/v1/auth/me", headers=bearer(good)).status_code
                for _ in range(10)} == {200}
        assert client.get("/api/v1/auth/me", headers=bearer("msk_bad")).status_code == 401


@pytest.mark.redis
def test_key_failures_are_counted_in_redis_across_processes(
    engine: Engine, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_REDIS_URL=redis_url,
              MIANSHEN_AUTH__IP_API_KEY_FAILURES_PER_MINUTE="4")
    _fresh_minute()
    other = RedisThrottle(redis.Redis.from_url(redis_url))
    for _ in range(4):  # another process saw four failures from this address this minute
        other.hit("apikey-fail:127.0.0.1", 4, 60)
    with served(engine) as client:
        first = client.get("/api/v1/auth/me", headers=bearer("msk_000000000000_guess"))
    assert first.status_code == 429
