"""The verification API over real HTTP on 127.0.0.1 (uvicorn), both databases, with real API
keys and staff sessions: scopes decide which checks a department key may call, bad requests are
4xx, and every call lands in the call log with hashes only, searchable by auditors alone."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.auth_support import (
    bearer,
    configure,
    new_key,
    reset_caches,
    served,
    session_cookie,
    staff_principal,
)
from tests.verify_support import Registry, load_registry

Headers = Mapping[str, str]


@pytest.fixture
def setup(engine: Engine, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[httpx.Client, Registry]]:
    configure(monkeypatch)
    registry = load_registry(engine, tmp_path)
    with served(engine) as client:
        yield client, registry
    reset_caches()


def _post(client: httpx.Client, headers: Headers, path: str, body: Mapping[str, object],
          cookies: Mapping[str, str] | None = None) -> httpx.Response:
    client.cookies.clear()
    client.cookies.update(dict(cookies or {}))
    return client.post(f"/api/v1/verify/{path}", json=body, headers=dict(headers))


def _key_id(secret: str) -> str:
    return "apikey:" + secret.split("_")[1]


def test_scopes_and_bad_requests(engine: Engine,
                                 setup: tuple[httpx.Client, Registry]) -> None:
    client, registry = setup
    person_only = bearer(new_key(engine, "verify:person"))
    every = bearer(new_key(engine, "verify:person", "verify:enterprise", "verify:status"))
    ok = _post(client, person_only, "person", {"name": "陈一文", "id_number": registry.alive})
    assert ok.status_code == 200 and ok.json()["outcome"] == "match" and ok.json()["matched"]
    denied = _post(client, person_only, "enterprise",
                   {"uscc": registry.active_uscc, "name": "x", "legal_rep": "李四"})
    assert denied.status_code == 403 and denied.json()["error"]["message"] == "接口权限不足"
    assert _post(client, person_only, "status",
                 {"id_number": registry.alive, "kind": "alive"}).status_code == 403
    cookies, csrf = session_cookie(engine, staff_principal("auditor"))
    assert _post(client, csrf, "person", {"name": "陈一文", "id_number": registry.alive},
                 cookies).status_code == 403
    assert _post(client, {}, "person", {"name": "陈一文", "id_number": registry.alive}
                 ).status_code == 401
    assert _post(client, bearer("msk_000000000000_forged"), "person",
                 {"name": "陈一文", "id_number": registry.alive}).status_code == 401
    assert _post(client, every, "person", {"name": "陈一文"}).status_code == 422
    assert _post(client, every, "status",
                 {"id_number": registry.alive, "kind": "horoscope"}).status_code == 422
    broken = client.post("/api/v1/verify/person", content=b"{not json",
                         headers={**every, "content-type": "application/json"})
    assert broken.status_code == 422
    enterprise = _post(client, every, "enterprise", {
        "uscc": registry.active_uscc, "name": "佛山市禅城区测试1有限公司", "legal_rep": "李四"})
    assert enterprise.json()["outcome"] == "match"
    disability = _post(client, every, "status",
                       {"id_number": registry.disabled, "kind": "disability"}).json()
    assert disability["outcome"] == "disabled" and disability["facts"]["grade"] == 2
    education = _post(client, every, "status",
                      {"id_number": registry.alive, "kind": "education"}).json()
    assert education["outcome"] == "unsupported" and "学历" in education["message"]


def test_every_call_is_logged_without_clear_personal_data(
        engine: Engine, setup: tuple[httpx.Client, Registry]) -> None:
    client, registry = setup
    person_secret = new_key(engine, "verify:person", department="civil_affairs")
    every_secret = new_key(engine, "verify:person", "verify:enterprise", "verify:status",
                           department="human_resources")
    person_only, every = bearer(person_secret), bearer(every_secret)
    _post(client, person_only, "person", {"name": "陈一文", "id_number": registry.alive})
    _post(client, person_only, "person", {"name": "陈二文", "id_number": registry.dead})
    _post(client, every, "status", {"id_number": registry.alive, "kind": "alive"})
    _post(client, every, "enterprise", {
        "uscc": registry.active_uscc, "name": "佛山市禅城区测试1有限公司", "legal_rep": "王五"})
    _post(client, person_only, "enterprise", {  # refused: no check ran, nothing to log
        "uscc": registry.active_uscc, "name": "x", "legal_rep": "y"})

    search = {"subject": registry.alive}
    auditor, auditor_csrf = session_cookie(engine, staff_principal("auditor"))
    officer, officer_csrf = session_cookie(engine, staff_principal("officer"))
    assert _post(client, person_only, "calls/search", search).status_code == 403
    assert _post(client, officer_csrf, "calls/search", search, officer).status_code == 403
    assert _post(client, {}, "calls/search", search, auditor).status_code == 403  # no CSRF
    about_alive = _post(client, auditor_csrf, "calls/search", search, auditor)
    assert about_alive.status_code == 200
    calls = about_alive.json()
    assert [(c["check_kind"], c["outcome"], c["caller_id"]) for c in calls] == [
        ("status:alive", "alive", _key_id(every_secret)),
        ("person", "match", _key_id(person_secret)),
    ]
    assert calls[1]["department"] == "civil_affairs"
    everything = _post(client, auditor_csrf, "calls/search", {"limit": 1000}, auditor).json()
    assert sorted(c["outcome"] for c in everything) == [
        "alive", "deceased", "legal_rep_mismatch", "match"]
    by_caller = _post(client, auditor_csrf, "calls/search",
                      {"caller_id": _key_id(person_secret)}, auditor).json()
    assert len(by_caller) == 2

    with engine.connect() as connection:
        stored = " ".join(" ".join(str(v) for v in row) for row in connection.execute(
            text("SELECT * FROM verification_call")))
    for secret in (registry.alive, registry.dead, registry.active_uscc, "陈一文", "陈二文",
                   "王五", "佛山市禅城区测试1有限公司", person_secret, every_secret):
        assert secret not in stored
        assert secret not in about_alive.text
