"""Every HTTP route has a declared access rule (``tests/access_table.py``) and keeps to it, over
real HTTP on 127.0.0.1 with real credentials (session cookies with their CSRF token, API keys):
anonymous → 401, a wrong kind or role → 403, the right principal gets through; and for every
citizen-, enterprise- or holder-owned route, user A cannot reach user B's records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.auth.apikeys import SCOPES
from app.auth.principal import STAFF_ROLES, Principal
from app.db import session_scope
from app.main import create_app
from app.personal_data.service import record_access
from certs import service as certs_service
from certs.models import CertType
from notifications import service as sms_service
from tests.access_table import (
    ACCESS,
    OWNED_RULES,
    PATH_VALUES,
    QUERY_VALUES,
    CitizenOwned,
    EnterpriseOwned,
    HolderOrStaff,
    OwnCredential,
    Public,
    Rule,
    Scope,
    SignedIn,
    Staff,
)
from tests.auth_support import citizen, enterprise, new_key, served, session_cookie
from tests.citizens import credit_code, id_number
from tests.sms_support import DAYTIME, add_person, payment

ANONYMOUS_OK = "anonymous"


def app_routes() -> Iterator[tuple[str, str]]:
    """(method, path) of every API route, through included routers (FastAPI includes them
    lazily; ``iter_route_contexts`` resolves their effective paths)."""
    routes: Iterable[Any] = create_app().routes
    resolve = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in resolve(routes) if resolve else routes:
        if not route.path.startswith("/api/"):
            continue  # pages: tests/web/test_page_access.py
        if isinstance(getattr(route, "original_route", route), APIRoute):
            for method in sorted(set(route.methods) - {"HEAD"}):
                yield method, route.path


def test_every_route_has_a_declared_access_rule() -> None:
    routes = set(app_routes())
    unclassified = sorted(routes - set(ACCESS))
    stale = sorted(set(ACCESS) - routes)
    assert not unclassified, f"add these routes to tests/access_table.py: {unclassified}"
    assert not stale, f"these entries of tests/access_table.py have no route: {stale}"


@dataclass
class Caller:
    label: str
    headers: dict[str, str] = field(default_factory=dict)


class Callers:
    """Real credentials of each kind: fresh sessions (a logout must not spoil the next check)
    and API keys made once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.keys: dict[frozenset[str], str] = {}

    def session(self, principal: Principal, label: str) -> Caller:
        cookies, csrf = session_cookie(self.engine, principal)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return Caller(label, {"Cookie": cookie, **csrf})

    def staff(self, roles: frozenset[str]) -> Caller:
        principal = Principal(kind="staff", id="staff-" + "-".join(sorted(roles)), roles=roles)
        return self.session(principal, f"staff{sorted(roles)}")

    def citizen(self) -> Caller:
        return self.session(citizen("c" * 32), "citizen")

    def enterprise(self) -> Caller:
        return self.session(enterprise(credit_code(1)), "enterprise")

    def department(self, scopes: frozenset[str]) -> Caller:
        if scopes not in self.keys:
            # civil_affairs supplies PATH_VALUES["dataset"] (a data:push key must)
            self.keys[scopes] = new_key(self.engine, *sorted(scopes), rate=1_000_000,
                                        department="civil_affairs")
        return Caller(f"department{sorted(scopes)}",
                      {"Authorization": f"Bearer {self.keys[scopes]}"})


def _expectations(rule: Rule, who: Callers) -> list[tuple[Caller, int | None]]:
    """(caller, expected status) pairs; ``None`` means "let through" (not 401 or 403)."""
    everyone = frozenset(STAFF_ROLES)
    all_scopes = frozenset(SCOPES)
    anonymous = Caller(ANONYMOUS_OK)
    if isinstance(rule, Public):
        return [(anonymous, None)]
    if isinstance(rule, OwnCredential):
        return [(anonymous, 403)]
    if isinstance(rule, SignedIn):
        return [(anonymous, 401), (who.staff(frozenset({"officer"})), None),
                (who.citizen(), None), (who.enterprise(), None),
                (who.department(all_scopes), None)]
    checks: list[tuple[Caller, int | None]] = [(anonymous, 401)]
    if isinstance(rule, Staff):
        right = rule.roles or everyone
        checks += [(who.staff(frozenset(sorted(right)[:1])), None), (who.citizen(), 403),
                   (who.enterprise(), 403), (who.department(all_scopes), 403)]
        if everyone - right:
            checks.append((who.staff(everyone - right), 403))
    elif isinstance(rule, CitizenOwned):
        checks += [(who.citizen(), None), (who.staff(everyone), 403), (who.enterprise(), 403),
                   (who.department(all_scopes), 403)]
    elif isinstance(rule, EnterpriseOwned):
        checks += [(who.enterprise(), None), (who.staff(everyone), 403), (who.citizen(), 403),
                   (who.department(all_scopes), 403)]
    elif isinstance(rule, HolderOrStaff):
        checks += [(who.staff(frozenset({"officer"})), None), (who.department(all_scopes), 403)]
    elif isinstance(rule, Scope):
        checks += [(who.department(frozenset({rule.scope})), None),
                   (who.staff(everyone), 403), (who.citizen(), 403), (who.enterprise(), 403)]
        if all_scopes - {rule.scope}:
            checks.append((who.department(all_scopes - {rule.scope}), 403))
    return checks


def _call(client: httpx.Client, method: str, path: str, caller: Caller) -> httpx.Response:
    url = path.format(**{name: PATH_VALUES.get(name, "1") for name in _params(path)})
    return client.request(method, url, headers=caller.headers, params=QUERY_VALUES.get(path),
                          json={} if method != "GET" else None)


def _params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def test_every_route_refuses_the_wrong_callers(engine: Engine) -> None:
    callers = Callers(engine)
    failures = []
    with served(engine) as client:
        for (method, path), rule in sorted(ACCESS.items()):
            for caller, expected in _expectations(rule, callers):
                status = _call(client, method, path, caller).status_code
                wrong = status in (401, 403) if expected is None else status != expected
                if wrong:
                    failures.append(f"{method} {path} as {caller.label}: {status}, "
                                    f"expected {expected or 'neither 401 nor 403'}")
    assert not failures, "\n".join(failures)


# Ownership: user A cannot reach user B's records -----------------------------------------

OwnershipCase = Callable[[Engine, httpx.Client, Callers], None]
OWNERSHIP_CASES: dict[tuple[str, str], OwnershipCase] = {}


def owned(method: str, path: str) -> Callable[[OwnershipCase], OwnershipCase]:
    def register(case: OwnershipCase) -> OwnershipCase:
        OWNERSHIP_CASES[(method, path)] = case
        return case

    return register


def test_every_owned_route_has_an_ownership_case() -> None:
    owned_routes = {route for route, rule in ACCESS.items() if isinstance(rule, OWNED_RULES)}
    assert owned_routes == set(OWNERSHIP_CASES)


A_ID, B_ID = id_number(sequence=701), id_number(sequence=703)


def _two_citizens(engine: Engine, callers: Callers) -> tuple[str, str, Caller, Caller]:
    with session_scope(engine) as session:
        a = add_person(session, A_ID, name="陈大文", mobile="13800000001")
        b = add_person(session, B_ID, name="林美玲", mobile="13800000002")
    return a, b, callers.session(citizen(a), "A"), callers.session(citizen(b), "B")


@owned("GET", "/api/v1/notifications/mine")
def _my_messages(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    a, b, as_a, as_b = _two_citizens(engine, callers)
    with session_scope(engine) as session:
        sms_service.enqueue(session, payment(a), now=DAYTIME)
        for period in ("2026-10", "2026-11"):
            sms_service.enqueue(session, payment(b, period=period), now=DAYTIME)
    mine_a = client.get("/api/v1/notifications/mine", headers=as_a.headers)
    mine_b = client.get("/api/v1/notifications/mine", headers=as_b.headers)
    assert mine_a.status_code == mine_b.status_code == 200
    assert len(mine_a.json()) == 1 and len(mine_b.json()) == 2


@owned("POST", "/api/v1/notifications/mine/opt-out")
def _my_opt_out(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    a, b, as_a, _as_b = _two_citizens(engine, callers)
    answer = client.post("/api/v1/notifications/mine/opt-out", headers=as_a.headers)
    assert answer.status_code == 200
    with engine.connect() as connection:
        keys = connection.execute(text("SELECT subject_key FROM sms_opt_out")).scalars().all()
    assert keys == [a] and b not in keys


@owned("GET", "/api/v1/me/access-log")
def _my_access_log(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    a, b, as_a, _as_b = _two_citizens(engine, callers)
    officer = Principal(kind="staff", id="officer-1", roles=frozenset({"officer"}))
    with session_scope(engine) as session:
        record_access(session, officer, a, "grants_show", ["state"])
        record_access(session, officer, b, "grants_show", ["state"])
        record_access(session, officer, b, "certificate_show", ["holder"])
    mine = client.get("/api/v1/me/access-log", headers=as_a.headers)
    assert mine.status_code == 200
    assert [(r["subject_key"], r["purpose"]) for r in mine.json()] == [(a, "grants_show")]


@owned("GET", "/api/v1/me/export")
def _my_export(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    _a, b, as_a, _as_b = _two_citizens(engine, callers)
    export = client.get("/api/v1/me/export", headers=as_a.headers)
    assert export.status_code == 200
    assert "陈大文" in export.text and "林美玲" not in export.text and b not in export.text


@owned("POST", "/api/v1/me/refuse-automation")
def _my_refusal(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    a, _b, as_a, _as_b = _two_citizens(engine, callers)
    answer = client.post("/api/v1/me/refuse-automation", headers=as_a.headers)
    assert answer.status_code == 200 and answer.json()["subject_key"] == a
    with engine.connect() as connection:
        keys = connection.execute(
            text("SELECT subject_key FROM automation_refusal")).scalars().all()
    assert keys == [a]


def _certificate_of(engine: Engine, subject_key: str) -> str:
    with session_scope(engine) as session:
        certs_service.generate_department_key(session, "transport")
        cert = certs_service.issue_certificate(
            session, CertType.BUS_CARD, subject_key, "陈大文", "transport", date(2026, 1, 1),
            None, grant_ref="g-own")
        return cert.cert_id


def _holder_case(suffix: str) -> OwnershipCase:
    def case(engine: Engine, client: httpx.Client, callers: Callers) -> None:
        a, _b, as_a, as_b = _two_citizens(engine, callers)
        path = f"/api/v1/certs/{_certificate_of(engine, a)}{suffix}"
        assert client.get(path, headers=as_a.headers).status_code == 200
        assert client.get(path, headers=as_b.headers).status_code == 403
        assert client.get(path, headers=callers.enterprise().headers).status_code == 403
        assert client.get(path, headers=callers.staff(frozenset({"auditor"})).headers
                          ).status_code == 200

    return case


for _suffix in ("", "/qr", "/page"):
    owned("GET", "/api/v1/certs/{cert_id}" + _suffix)(_holder_case(_suffix))


import tests.portal_ownership  # noqa: E402, F401  (registers the portal APIs' cases)


# Runs every case registered above (keep this test last: the cases register at import).
@pytest.mark.parametrize("route", sorted(OWNERSHIP_CASES), ids=" ".join)
def test_user_a_cannot_reach_user_b_records(engine: Engine, route: tuple[str, str]) -> None:
    with served(engine) as client:
        OWNERSHIP_CASES[route](engine, client, Callers(engine))
