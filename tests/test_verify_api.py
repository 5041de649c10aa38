"""The verification API over real HTTP on 127.0.0.1 (uvicorn), both databases: scopes decide
which checks a department key may call, bad requests are 4xx, and every call lands in the call
log with hashes only, searchable by auditors and nobody else."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from fastapi import Request
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.auth.deps import current_principal
from app.auth.principal import Principal
from app.main import create_app
from tests.sms_support import ServedApp
from tests.verify_support import load_registry

CALLERS = {
    "person-key": Principal(kind="department", id="apikey:aaaa00000001",
                            roles=frozenset({"verify:person"}), department="civil_affairs"),
    "all-keys": Principal(kind="department", id="apikey:aaaa00000002",
                          roles=frozenset({"verify:person", "verify:enterprise",
                                           "verify:status"}), department="human_resources"),
    "auditor": Principal(kind="staff", id="staff:audit", roles=frozenset({"auditor"})),
    "officer": Principal(kind="staff", id="staff:officer", roles=frozenset({"officer"})),
}


def _caller(request: Request) -> Principal | None:
    """Stands in for API-key / session sign-in: the test names its caller in a header."""
    return CALLERS.get(request.headers.get("x-test-caller", ""))


@pytest.fixture
def client(engine: Engine) -> Iterator[httpx.Client]:
    api = create_app()
    api.state.engine = engine
    api.dependency_overrides[current_principal] = _caller
    with ServedApp(api) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        yield http


def _post(client: httpx.Client, who: str, path: str, body: Mapping[str, object]
          ) -> httpx.Response:
    return client.post(f"/api/v1/verify/{path}", json=body, headers={"x-test-caller": who})


def test_scopes_and_bad_requests(engine: Engine, tmp_path: Path,
                                 client: httpx.Client) -> None:
    registry = load_registry(engine, tmp_path)
    ok = _post(client, "person-key", "person", {"name": "陈一文", "id_number": registry.alive})
    assert ok.status_code == 200 and ok.json()["outcome"] == "match" and ok.json()["matched"]
    denied = _post(client, "person-key", "enterprise",
                   {"uscc": registry.active_uscc, "name": "x", "legal_rep": "李四"})
    assert denied.status_code == 403 and denied.json()["error"]["message"] == "接口权限不足"
    assert _post(client, "person-key", "status",
                 {"id_number": registry.alive, "kind": "alive"}).status_code == 403
    assert _post(client, "auditor", "person",
                 {"name": "陈一文", "id_number": registry.alive}).status_code == 403
    assert _post(client, "", "person", {"name": "陈一文", "id_number": registry.alive}
                 ).status_code == 401
    assert _post(client, "all-keys", "person", {"name": "陈一文"}).status_code == 422
    assert _post(client, "all-keys", "status",
                 {"id_number": registry.alive, "kind": "horoscope"}).status_code == 422
    broken = client.post("/api/v1/verify/person", content=b"{not json",
                         headers={"x-test-caller": "all-keys",
                                  "content-type": "application/json"})
    assert broken.status_code == 422
    enterprise = _post(client, "all-keys", "enterprise", {
        "uscc": registry.active_uscc, "name": "佛山市禅城区测试1有限公司", "legal_rep": "李四"})
    assert enterprise.json()["outcome"] == "match"
    disability = _post(client, "all-keys", "status",
                       {"id_number": registry.disabled, "kind": "disability"}).json()
    assert disability["outcome"] == "disabled" and disability["facts"]["grade"] == 2
    education = _post(client, "all-keys", "status",
                      {"id_number": registry.alive, "kind": "education"}).json()
    assert education["outcome"] == "unsupported" and "学历" in education["message"]


def test_every_call_is_logged_without_clear_personal_data(engine: Engine, tmp_path: Path,
                                                          client: httpx.Client) -> None:
    registry = load_registry(engine, tmp_path)
    _post(client, "person-key", "person", {"name": "陈一文", "id_number": registry.alive})
    _post(client, "person-key", "person", {"name": "陈二文", "id_number": registry.dead})
    _post(client, "all-keys", "status", {"id_number": registry.alive, "kind": "alive"})
    _post(client, "all-keys", "enterprise", {
        "uscc": registry.active_uscc, "name": "佛山市禅城区测试1有限公司", "legal_rep": "王五"})
    _post(client, "person-key", "enterprise", {  # refused: no check ran, nothing to log
        "uscc": registry.active_uscc, "name": "x", "legal_rep": "y"})

    search = {"subject": registry.alive}
    assert _post(client, "person-key", "calls/search", search).status_code == 403
    assert _post(client, "officer", "calls/search", search).status_code == 403
    about_alive = _post(client, "auditor", "calls/search", search)
    assert about_alive.status_code == 200
    calls = about_alive.json()
    assert [(c["check_kind"], c["outcome"], c["caller_id"]) for c in calls] == [
        ("status:alive", "alive", "apikey:aaaa00000002"),
        ("person", "match", "apikey:aaaa00000001"),
    ]
    assert calls[1]["department"] == "civil_affairs"
    everything = _post(client, "auditor", "calls/search", {"limit": 1000}).json()
    assert sorted(c["outcome"] for c in everything) == [
        "alive", "deceased", "legal_rep_mismatch", "match"]
    by_caller = _post(client, "auditor", "calls/search",
                      {"caller_id": "apikey:aaaa00000001"}).json()
    assert len(by_caller) == 2

    with engine.connect() as connection:
        stored = " ".join(" ".join(str(v) for v in row) for row in connection.execute(
            text("SELECT * FROM verification_call")))
    for secret in (registry.alive, registry.dead, registry.active_uscc, "陈一文", "陈二文",
                   "王五", "佛山市禅城区测试1有限公司"):
        assert secret not in stored
        assert secret not in about_alive.text
