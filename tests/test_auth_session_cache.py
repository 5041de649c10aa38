"""The in-process session cache (``app.auth.session_cache``): a cached session still ends at
sign-out at once, expires (idle and absolute) on time, is never put back by a look-up racing
the sign-out's commit, and an ending written by another process is seen within the cache period.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from app.auth import session_cache, sessions
from app.auth.models import AuthSession
from app.auth.tokens import token_hash, utcnow
from app.db import session_scope
from app.settings import get_settings
from tests.auth_support import PASSWORD, add_staff, configure, served, staff_principal

ME = "/api/v1/auth/me"


def _sign_in(client: object, username: str) -> tuple[str, str]:
    """Sign in; the session token (cookie) and its CSRF token."""
    answer = client.post("/api/v1/auth/login",  # type: ignore[attr-defined]
                         json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200
    token = client.cookies[get_settings().auth.cookie_name]  # type: ignore[attr-defined]
    return token, answer.json()["csrf_token"]


def _me(client: object, token: str) -> int:
    """``/me`` with this cookie sent by hand (a signed-out browser drops it; a thief would not)."""
    cookie = {"Cookie": f"{get_settings().auth.cookie_name}={token}"}
    client.cookies.clear()  # type: ignore[attr-defined]
    return int(client.get(ME, headers=cookie).status_code)  # type: ignore[attr-defined]


def test_sign_out_ends_a_cached_session_at_once(engine: Engine) -> None:
    add_staff(engine, "li", "officer")
    with served(engine) as client:
        token, csrf = _sign_in(client, "li")
        assert _me(client, token) == 200
        assert session_cache.lookup(token_hash(token), utcnow()) is not None  # cached
        signed_out = client.post("/api/v1/auth/logout", headers={
            "X-CSRF-Token": csrf, "Cookie": f"{get_settings().auth.cookie_name}={token}"})
        assert signed_out.status_code == 200
        assert _me(client, token) == 401
        assert session_cache.lookup(token_hash(token), utcnow()) is None


def test_a_cached_session_still_expires_idle_and_absolute(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_staff(engine, "he", "officer")
    with served(engine) as client:
        token, _csrf = _sign_in(client, "he")
        assert _me(client, token) == 200  # cached now
        idle_later = utcnow() + timedelta(minutes=31)
        monkeypatch.setattr(sessions, "utcnow", lambda: idle_later)
        assert _me(client, token) == 401
    monkeypatch.undo()
    configure(monkeypatch, MIANSHEN_AUTH__SESSION_IDLE_MINUTES="100000",
              MIANSHEN_AUTH__SESSION_ABSOLUTE_MINUTES="60")
    with served(engine) as client:
        token, _csrf = _sign_in(client, "he")
        assert _me(client, token) == 200
        absolute_later = utcnow() + timedelta(minutes=61)
        monkeypatch.setattr(sessions, "utcnow", lambda: absolute_later)
        assert _me(client, token) == 401


def test_a_look_up_racing_the_sign_out_cannot_cache_the_session_again(engine: Engine) -> None:
    with session_scope(engine) as session:
        token = sessions.start_session(session, staff_principal("officer")).token
    assert sessions.resolve_token(engine, token) is not None  # cached
    with session_scope(engine) as session:
        sessions.end_session(session, token)
        # before the commit another request reads the still-live row...
        assert sessions.resolve_token(engine, token) is not None
    # ...yet it was not cached again: once committed, the ending holds in this process
    assert sessions.resolve_token(engine, token) is None


def test_an_ending_by_another_process_is_seen_within_the_cache_period(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__SESSION_CACHE_SECONDS="2")
    add_staff(engine, "lu", "officer")
    with served(engine) as client:
        token, _csrf = _sign_in(client, "lu")
        cached_at = time.monotonic()
        assert _me(client, token) == 200
        with session_scope(engine) as session:  # another worker signs it out
            session.execute(update(AuthSession).values(ended_at=utcnow()))
        answer = _me(client, token)
        if time.monotonic() - cached_at < 1.5:
            assert answer == 200  # the documented lag: this process still has it cached
        time.sleep(2.1)
        assert _me(client, token) == 401


def test_the_cache_can_be_turned_off(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__SESSION_CACHE_SECONDS="0")
    with session_scope(engine) as session:
        token = sessions.start_session(session, staff_principal("officer")).token
    assert sessions.resolve_token(engine, token) is not None
    with session_scope(engine) as session:
        session.execute(update(AuthSession).values(ended_at=utcnow()))
    assert sessions.resolve_token(engine, token) is None
