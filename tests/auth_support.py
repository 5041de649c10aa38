"""Helpers of the sign-in and authorisation tests: settings changed for one test (and restored),
the real application served on 127.0.0.1, staff users, API keys, sessions for each kind of
principal, and an enterprise in the registry linked to its legal representative."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from app.auth import apikeys, sessions, staff, throttle
from app.auth.principal import Principal
from app.datahub.models import Enterprise
from app.db import session_scope
from app.main import create_app
from app.privacy import keyring
from app.settings import get_settings
from tests.sms_support import ServedApp, add_person

PASSWORD = "correct horse battery"
# Generous limits so that tests sharing one process's counters do not trip each other.
ROOMY = {"MIANSHEN_AUTH__IP_CODE_REQUESTS_PER_MINUTE": "10000",
         "MIANSHEN_AUTH__IP_SIGN_INS_PER_MINUTE": "10000",
         "MIANSHEN_AUTH__IP_API_KEY_FAILURES_PER_MINUTE": "10000"}


def configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    """Set ``MIANSHEN_*`` variables for this test; caches of settings, throttles and keys reset
    now and (through the ``fresh_auth`` fixture) after the test."""
    for name, value in {**ROOMY, **env}.items():
        monkeypatch.setenv(name, value)
    reset_caches()


def reset_caches() -> None:
    get_settings.cache_clear()
    throttle._throttle_for.cache_clear()
    apikeys.forget_cached_keys()


@contextmanager
def served(engine: Engine) -> Iterator[httpx.Client]:
    api = create_app()
    api.state.engine = engine
    with ServedApp(api) as app_server, httpx.Client(base_url=app_server.url, timeout=20) as client:
        yield client


def add_staff(engine: Engine, username: str, *roles: str) -> None:
    with session_scope(engine) as session:
        staff.add_user(session, username, PASSWORD, list(roles) or ["officer"])


def new_key(engine: Engine, *scopes: str, rate: int = 1000, department: str = "civil") -> str:
    with session_scope(engine) as session:
        _row, secret = apikeys.create_key(session, department, list(scopes), rate)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def session_cookie(engine: Engine, principal: Principal) -> tuple[dict[str, str], dict[str, str]]:
    """(cookies, CSRF header) of a fresh session of ``principal``."""
    with session_scope(engine) as session:
        signed_in = sessions.start_session(session, principal)
    cookie_name = get_settings().auth.cookie_name
    return {cookie_name: signed_in.token}, {"X-CSRF-Token": signed_in.csrf_token}


def citizen(subject_key: str) -> Principal:
    return Principal(kind="citizen", id=f"citizen:{subject_key}", subject_key=subject_key)


def enterprise(uscc: str) -> Principal:
    return Principal(kind="enterprise", id=f"enterprise:{uscc}", subject_key=uscc)


def staff_principal(*roles: str) -> Principal:
    return Principal(kind="staff", id="-".join(roles) or "nobody", roles=frozenset(roles))


def department(*scopes: str) -> Principal:
    return Principal(kind="department", id="apikey:test", roles=frozenset(scopes))


def add_enterprise(engine: Engine, uscc: str, legal_rep_id: str, legal_rep_name: str,
                   mobile: str | None = "13900001111", **changes: Any) -> None:
    ring = keyring()
    with session_scope(engine) as session:
        rep_key = add_person(session, legal_rep_id, name=legal_rep_name, mobile=mobile)
        fields: dict[str, Any] = dict(
            uscc=uscc, name="佛山市禅城区示例贸易有限公司", kind="enterprise",
            industry_code="5191", size_class="small", region_code="440604",
            registration_date=date(2015, 3, 1), status="active", legal_rep_key=rep_key,
            source_dept="market_regulation", as_of=date(2026, 11, 1),
            pii=ring.encrypt_json({"legal_rep_name": legal_rep_name,
                                   "legal_rep_id_number": legal_rep_id}),
            row_hash="2" * 32, updated_at=datetime.now(UTC),
        )
        fields.update(changes)
        session.add(Enterprise(**fields))
