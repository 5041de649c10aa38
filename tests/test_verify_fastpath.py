"""The verification hot path (``certs/verify/fastpath.py``) over real HTTP against the real
application: its answers are byte for byte those of the FastAPI routes, every call it serves is
in the call log, the per-key rate limit holds through it, anything it does not recognise goes
to the routes, and a database that refuses connections or has none free is a 503 in the
standard error format (never a 500)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from stdnum.cn import ric

from app.auth import apikeys
from app.auth.models import ApiKey
from app.db import engine_for, session_scope
from certs.verify import lookups
from tests.auth_support import bearer, configure, new_key, reset_caches, served
from tests.verify_support import Registry, load_registry

FUTURE = "44060420990101001" + ric.calc_check_digit("44060420990101001" + "0")
REFUSED = "postgresql+psycopg://postgres@127.0.0.1:9/refused"  # nothing listens on port 9


@pytest.fixture
def registry(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    configure(monkeypatch)
    yield load_registry(engine, tmp_path)
    reset_caches()


class Counted:
    """Counts calls of ``apikeys.authenticate``: the routes' path; the fast path never calls it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = apikeys.authenticate

        def counting(*args: object, **kwargs: object) -> object:
            self.calls += 1
            return original(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(apikeys, "authenticate", counting)


def _queries(registry: Registry) -> list[tuple[str, dict[str, str]]]:
    return [
        ("person", {"name": "陈一文", "id_number": registry.alive}),  # match
        ("person", {"name": "陈一武", "id_number": registry.alive}),  # mismatch
        ("person", {"name": "陈二文", "id_number": registry.dead}),  # deceased
        ("person", {"name": "陈一文", "id_number": registry.absent}),  # not_found
        ("person", {"name": "陈一文", "id_number": registry.alive[:-1] + "0"}),  # invalid_id
        ("person", {"name": "陈一文", "id_number": FUTURE}),  # invalid_birth_date
        ("status", {"id_number": registry.alive, "kind": "alive"}),
        ("status", {"id_number": registry.dead, "kind": "alive"}),
        ("status", {"id_number": registry.absent, "kind": "alive"}),
        ("status", {"id_number": "123", "kind": "alive"}),
    ]


def test_fast_answers_are_the_routes_answers_and_all_logged(
        engine: Engine, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    headers = bearer(new_key(engine, "verify:person", "verify:status"))
    counted = Counted(monkeypatch)
    outcomes = set()
    with served(engine) as client:
        for path, body in _queries(registry):
            apikeys.forget_cached_keys()  # a cold key: this one goes through the routes
            routed = client.post(f"/api/v1/verify/{path}", json=body, headers=headers)
            before = counted.calls
            fast = client.post(f"/api/v1/verify/{path}", json=body, headers=headers)
            assert routed.status_code == fast.status_code == 200
            assert fast.content == routed.content, (path, body)
            assert fast.headers["content-type"] == routed.headers["content-type"]
            outcomes.add(fast.json()["outcome"])
            fast_served = counted.calls == before
            assert fast_served == (engine.dialect.name == "postgresql")
        assert counted.calls >= len(_queries(registry))
        # Anything the fast path does not recognise is the routes' answer (4xx included).
        assert client.post("/api/v1/verify/person", json={"name": "陈一文"},
                           headers=headers).status_code == 422
        assert client.post("/api/v1/verify/status", json={"id_number": 1, "kind": "alive"},
                           headers=headers).status_code == 422
        broken = client.post("/api/v1/verify/person", content=b"{not json",
                             headers={**headers, "content-type": "application/json"})
        assert broken.status_code == 422 and broken.json()["error"]["code"] == "ValidationFailed"
        wrong = client.post("/api/v1/verify/person", headers=bearer("msk_000000000000_x"),
                            json={"name": "陈一文", "id_number": registry.alive})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "API密钥无效"
        scoped = bearer(new_key(engine, "verify:person"))
        client.post("/api/v1/verify/person", headers=scoped,
                    json={"name": "陈一文", "id_number": registry.alive})  # warms the key
        denied = client.post("/api/v1/verify/status", headers=scoped,
                             json={"id_number": registry.alive, "kind": "alive"})
        assert denied.status_code == 403 and denied.json()["error"]["message"] == "接口权限不足"
    assert {"match", "mismatch", "deceased", "not_found", "invalid_id", "invalid_birth_date",
            "alive"} <= outcomes
    with engine.connect() as connection:
        logged = connection.execute(text("SELECT count(*) FROM verification_call")).scalar()
    assert logged == 2 * len(_queries(registry)) + 1  # the 4xx ran no check


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
def test_rate_limit_holds_on_the_fast_path(
        engine: Engine, registry: Registry, monkeypatch: pytest.MonkeyPatch, shared: bool,
        request: pytest.FixtureRequest) -> None:
    if shared:
        configure(monkeypatch, MIANSHEN_REDIS_URL=request.getfixturevalue("redis_url"))
    headers = bearer(new_key(engine, "verify:person", rate=5))
    body = {"name": "陈一文", "id_number": registry.alive}
    with served(engine) as client:
        for _attempt in range(3):  # a second boundary inside the burst: try a fresh second
            statuses = [r.status_code for r in _burst(client, headers, body, 8)]
            if statuses.count(200) == 5:
                break
        assert statuses.count(200) == 5 and statuses.count(429) == 3, statuses
        limited = client.post("/api/v1/verify/person", json=body, headers=headers)
        if limited.status_code == 429:
            assert limited.headers["Retry-After"] == "1"
            assert limited.json()["error"] == {
                "code": "RateLimited", "message": "请求过于频繁(每秒最多5次),请稍后重试"}


def _burst(client: httpx.Client, headers: dict[str, str], body: dict[str, str],
           count: int) -> list[httpx.Response]:
    time.sleep(1 - time.time() % 1 + 0.01)
    return [client.post("/api/v1/verify/person", json=body, headers=headers)
            for _ in range(count)]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_refused_database_is_503_not_500(engine: Engine, registry: Registry) -> None:
    secret = new_key(engine, "verify:person", "verify:enterprise", "verify:status")
    with session_scope(engine) as session:
        apikeys.authenticate(session, secret)  # the key is warm in this process's cache
    cold = new_key(engine, "verify:person")
    dead = engine_for(REFUSED)
    with served(dead) as client:
        answers = [
            client.post("/api/v1/verify/person", headers=bearer(secret),
                        json={"name": "陈一文", "id_number": registry.alive}),  # fast path
            client.post("/api/v1/verify/status", headers=bearer(secret),
                        json={"id_number": registry.alive, "kind": "disability"}),  # threaded
            client.post("/api/v1/verify/enterprise", headers=bearer(secret),
                        json={"uscc": registry.active_uscc, "name": "x", "legal_rep": "y"}),
            client.post("/api/v1/verify/person", headers=bearer(cold),  # key from the database
                        json={"name": "陈一文", "id_number": registry.alive}),
        ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json() == {"error": {"code": "ServiceUnavailable",
                                           "message": "服务暂时不可用,请稍后再试"}}
        assert "refused" not in answer.text and "127.0.0.1" not in answer.text


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_no_connection_free_is_503(engine: Engine, registry: Registry,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookups, "CONNECTIONS_PER_WORKER", 0)  # every connection is busy
    monkeypatch.setattr(lookups, "WAIT_SECONDS", 0.2)
    secret = new_key(engine, "verify:person")
    body = {"name": "陈一文", "id_number": registry.alive}
    with served(engine) as client:
        warm = client.post("/api/v1/verify/person", headers=bearer(secret), json=body)
        fast = client.post("/api/v1/verify/person", headers=bearer(secret), json=body)
    for answer in (warm, fast):  # through the routes (cold key), then the fast path
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "ServiceUnavailable"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_busy_key_is_refreshed_ahead_and_revocation_still_bounded(
        engine: Engine, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__API_KEY_CACHE_SECONDS="1.0")
    headers = bearer(new_key(engine, "verify:person"))
    body = {"name": "陈一文", "id_number": registry.alive}
    counted = Counted(monkeypatch)
    with served(engine) as client:
        started = time.monotonic()
        while time.monotonic() - started < 3:  # three cache times of steady use
            assert client.post("/api/v1/verify/person", json=body,
                               headers=headers).status_code == 200
            time.sleep(0.02)
        assert counted.calls <= 2  # the first request; without the refresh, one per second
        with session_scope(engine) as session:  # another process revokes the key
            session.execute(update(ApiKey).values(enabled=False))
        revoked_at = time.monotonic()
        while client.post("/api/v1/verify/person", json=body,
                          headers=headers).status_code == 200:
            assert time.monotonic() - revoked_at < 1.5, "revocation not seen in the cache time"
            time.sleep(0.02)
        refused = client.post("/api/v1/verify/person", json=body, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == "API密钥已停用"


def test_unreachable_rate_limit_store_is_503(engine: Engine, registry: Registry,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, MIANSHEN_REDIS_URL="redis://127.0.0.1:9/4")  # nothing listens
    headers = bearer(new_key(engine, "verify:person"))
    body = {"name": "陈一文", "id_number": registry.alive}
    with served(engine) as client:
        answers = [client.post("/api/v1/verify/person", json=body, headers=headers)
                   for _ in range(2)]  # the routes (cold key), then the fast path (warm)
    for answer in answers:
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "ServiceUnavailable"
