"""Staff sign-in over real HTTP on 127.0.0.1: argon2 hashes, the session cookie's attributes,
CSRF on cookie-authenticated unsafe requests (header and form field), lockout after repeated
wrong passwords, idle and absolute expiry, logout, disabling an account, and the users CLI."""

from __future__ import annotations

import json
import logging
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.auth import session_cache, staff
from app.auth.models import AuthSession, StaffUser
from app.auth.tokens import utcnow
from app.cli import cli
from app.db import session_scope
from app.errors import Unauthenticated
from tests.auth_support import PASSWORD, add_staff, configure, served


def _login(client: object, username: str, password: str = PASSWORD) -> object:
    return client.post("/api/v1/auth/login",  # type: ignore[attr-defined]
                       json={"username": username, "password": password})


def test_login_sets_an_httponly_lax_cookie_and_me_shows_roles(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    add_staff(engine, "wang", "officer", "approver")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM staff_user")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with served(engine) as client:
        answer = _login(client, "wang")
        assert answer.status_code == 200  # type: ignore[attr-defined]
        cookie = answer.headers["set-cookie"]  # type: ignore[attr-defined]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        me = client.get("/api/v1/auth/me").json()
        assert me["kind"] == "staff" and me["roles"] == ["approver", "officer"]
        assert me["csrf_token"] == answer.json()["csrf_token"]  # type: ignore[attr-defined]
    with engine.connect() as connection:
        token_hash = connection.execute(text("SELECT token_hash FROM auth_session")).scalar_one()
    assert token_hash not in cookie and len(token_hash) == 64
    assert PASSWORD not in caplog.text


def test_secure_cookie_when_configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__COOKIE_SECURE="true")
    add_staff(engine, "li", "auditor")
    with served(engine) as client:
        assert "Secure" in _login(client, "li").headers["set-cookie"]  # type: ignore[attr-defined]


def test_csrf_is_required_for_cookie_authenticated_unsafe_requests(engine: Engine) -> None:
    add_staff(engine, "zhao", "reviewer")
    with served(engine) as client:
        csrf = _login(client, "zhao").json()["csrf_token"]  # type: ignore[attr-defined]
        refused = client.post("/api/v1/auth/logout")
        assert refused.status_code == 403
        assert refused.json()["error"]["message"] == "页面已过期,请刷新后重试"
        forged = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "0" * 32})
        assert forged.status_code == 403
        assert client.get("/api/v1/auth/me").status_code == 200  # still signed in
        by_form = client.post("/api/v1/auth/logout", data={"csrf_token": csrf})
        assert by_form.status_code == 200
        assert client.get("/api/v1/auth/me").status_code == 401
        csrf = _login(client, "zhao").json()["csrf_token"]  # type: ignore[attr-defined]
        by_header = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert by_header.status_code == 200
        assert client.get("/api/v1/auth/me").status_code == 401


def test_wrong_passwords_lock_the_account(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__LOGIN_MAX_FAILURES="3")
    add_staff(engine, "qian", "officer")
    with served(engine) as client:
        for _ in range(3):
            wrong = _login(client, "qian", "not the password")
            assert wrong.status_code == 401  # type: ignore[attr-defined]
            assert wrong.json()["error"]["message"] == "用户名或密码错误"  # type: ignore[attr-defined]
        # Locked, even the right password is refused -- with the answer an unknown username
        # gets, so the lock does not tell that "qian" exists.
        locked = _login(client, "qian")
        unknown = _login(client, "nobody", "whatever")
        assert locked.json() == unknown.json()  # type: ignore[attr-defined]
        assert locked.json()["error"]["message"] == "用户名或密码错误"  # type: ignore[attr-defined]
        for answer in (locked, unknown):
            assert answer.status_code == 401  # type: ignore[attr-defined]
            assert "Retry-After" not in answer.headers  # type: ignore[attr-defined]
        with session_scope(engine) as session:  # the lock time passes
            session.execute(update(StaffUser).values(locked_until=utcnow()))
        assert _login(client, "qian").status_code == 200  # type: ignore[attr-defined]


def _median_seconds(engine: Engine, username: str, password: str) -> float:
    timings = []
    for _ in range(5):
        with session_scope(engine) as session:
            started = time.perf_counter()
            with pytest.raises(Unauthenticated):
                staff.authenticate(session, username, password)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def test_a_locked_account_costs_what_an_unknown_username_costs(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both pay one argon2 verification (a locked answer that skipped it would be quick, and
    quickness would tell the username exists)."""
    configure(monkeypatch, MIANSHEN_AUTH__LOGIN_MAX_FAILURES="1")
    add_staff(engine, "zhou", "officer")
    with session_scope(engine) as session, pytest.raises(Unauthenticated):
        staff.authenticate(session, "zhou", "not the password")
    locked = _median_seconds(engine, "zhou", PASSWORD)
    unknown = _median_seconds(engine, "nobody-here", PASSWORD)
    assert 0.5 < locked / unknown < 2, (locked, unknown)


def test_idle_and_absolute_expiry(engine: Engine) -> None:
    add_staff(engine, "sun", "officer")
    with served(engine) as client:
        assert _login(client, "sun").status_code == 200  # type: ignore[attr-defined]
        assert client.get("/api/v1/auth/me").status_code == 200
        with session_scope(engine) as session:
            session.execute(update(AuthSession).values(
                last_seen_at=utcnow() - timedelta(minutes=31)))
        session_cache.clear()  # the rows were aged behind the cache's back (see its own tests)
        assert client.get("/api/v1/auth/me").status_code == 401
        assert _login(client, "sun").status_code == 200  # type: ignore[attr-defined]
        assert client.get("/api/v1/auth/me").status_code == 200
        with session_scope(engine) as session:
            session.execute(update(AuthSession).values(expires_at=utcnow()))
        session_cache.clear()
        assert client.get("/api/v1/auth/me").status_code == 401


def test_disabling_a_user_ends_sessions_and_refuses_login(engine: Engine, db_url: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, MIANSHEN_DATABASE_URL=db_url)
    runner = CliRunner()
    added = runner.invoke(cli, ["users", "add", "zhou", "--role", "auditor", "--role", "admin",
                                "--password-stdin"], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output
    short = runner.invoke(cli, ["users", "add", "wu", "--role", "officer", "--password-stdin"],
                          input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    bad_role = runner.invoke(cli, ["users", "add", "wu", "--role", "king", "--password-stdin"],
                             input=PASSWORD + "\n")
    assert bad_role.exit_code == 1 and "unknown or missing roles" in bad_role.output
    users = json.loads(runner.invoke(cli, ["users", "list", "--json"]).output)
    assert users == [{"username": "zhou", "roles": ["admin", "auditor"], "enabled": True,
                      "locked_until": None, "last_login_at": None}]
    with served(engine) as client:
        assert _login(client, "zhou").status_code == 200  # type: ignore[attr-defined]
        assert runner.invoke(cli, ["users", "disable", "zhou"]).exit_code == 0
        assert client.get("/api/v1/auth/me").status_code == 401
        assert _login(client, "zhou").status_code == 401  # type: ignore[attr-defined]
