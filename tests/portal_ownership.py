"""Ownership cases of the citizen and enterprise portal APIs, registered into
``tests/test_access_control.py`` (which imports this module): citizen A and enterprise A each
hold a grant, B another; A's lists hold only A's records and every id of B's answers 404 to A,
changing nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import session_scope
from eligibility.grants.models import Grant
from tests.auth_support import add_enterprise, enterprise
from tests.citizens import credit_code, id_number
from tests.test_access_control import Callers, _certificate_of, _two_citizens, owned


def _grant(engine: Engine, subject_key: str, kind: str = "person",
           policy: str = "longevity-allowance", state: str = "granted") -> int:
    now = datetime.now(UTC)
    grant = Grant(policy_id=policy, policy_version="test", subject_kind=kind,
                  subject_key=subject_key, episode=1, state=state, is_open=True,
                  benefit_kind="cash", benefit_code="TEST", period_kind="month",
                  amount_fen=10_000, start_date=date(2026, 11, 1), created_at=now,
                  updated_at=now)
    with session_scope(engine) as session:
        session.add(grant)
        session.flush()
        assert grant.id is not None
        return grant.id


def _objections(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM objection")).scalar_one())


def _citizens_with_grants(engine: Engine, callers: Callers) -> tuple[int, int, dict[str, str],
                                                                      dict[str, str]]:
    a, b, as_a, as_b = _two_citizens(engine, callers)
    return _grant(engine, a), _grant(engine, b), as_a.headers, as_b.headers


def _citizen_list(path: str) -> None:
    @owned("GET", path)
    def case(engine: Engine, client: httpx.Client, callers: Callers) -> None:
        a_grant, b_grant, as_a, as_b = _citizens_with_grants(engine, callers)
        mine, theirs = client.get(path, headers=as_a), client.get(path, headers=as_b)
        assert mine.status_code == theirs.status_code == 200
        if path.endswith("/benefits"):
            assert [g["grant_id"] for g in mine.json()] == [a_grant]
            assert [g["grant_id"] for g in theirs.json()] == [b_grant]
        elif path.endswith("/profile"):
            assert mine.json()["id_number"] != theirs.json()["id_number"]


for _path in ("/api/v1/me/profile", "/api/v1/me/benefits", "/api/v1/me/payments",
              "/api/v1/me/certificates", "/api/v1/me/messages", "/api/v1/me/automation-refusal"):
    _citizen_list(_path)


@owned("GET", "/api/v1/me/benefits/{grant_id}")
def _my_benefit(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    a_grant, b_grant, as_a, _as_b = _citizens_with_grants(engine, callers)
    assert client.get(f"/api/v1/me/benefits/{a_grant}", headers=as_a).status_code == 200
    assert client.get(f"/api/v1/me/benefits/{b_grant}", headers=as_a).status_code == 404


def _citizen_change(suffix: str, body: dict[str, object]) -> None:
    @owned("POST", "/api/v1/me/benefits/{grant_id}" + suffix)
    def case(engine: Engine, client: httpx.Client, callers: Callers) -> None:
        _a_grant, b_grant, as_a, _as_b = _citizens_with_grants(engine, callers)
        before = _objections(engine)
        answer = client.post(f"/api/v1/me/benefits/{b_grant}{suffix}", headers=as_a, json=body)
        assert answer.status_code == 404 and _objections(engine) == before


_citizen_change("/objection", {"text": "这不是我的待遇,但我想提出异议"})
_citizen_change("/confirmation", {"accept": False})


@owned("GET", "/api/v1/me/certificates/{cert_id}/qr")
def _my_certificate_qr(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    a, b, as_a, _as_b = _two_citizens(engine, callers)
    own, other = _certificate_of(engine, a), _certificate_of(engine, b)
    assert client.get(f"/api/v1/me/certificates/{own}/qr", headers=as_a.headers).status_code \
        == 200
    assert client.get(f"/api/v1/me/certificates/{other}/qr", headers=as_a.headers
                      ).status_code == 404


def _enterprises(engine: Engine, callers: Callers) -> tuple[str, int, int, dict[str, str]]:
    a, b = credit_code(31), credit_code(32)
    add_enterprise(engine, a, id_number(sequence=711), "陈大文")
    add_enterprise(engine, b, id_number(sequence=713), "林美玲", mobile="13900002222")
    a_grant = _grant(engine, a, "enterprise", "individual-business-support",
                     "awaiting_confirmation")
    b_grant = _grant(engine, b, "enterprise", "individual-business-support",
                     "awaiting_confirmation")
    return a, a_grant, b_grant, callers.session(enterprise(a), "A").headers


@owned("GET", "/api/v1/enterprise/me/policies")
def _our_policies(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    a, a_grant, b_grant, as_a = _enterprises(engine, callers)
    answer = client.get("/api/v1/enterprise/me/policies", headers=as_a).json()
    assert answer["profile"]["uscc"] == a
    held = {m["benefit"]["grant_id"] for m in answer["matched"] if m["benefit"]}
    assert a_grant in held and b_grant not in held


@owned("GET", "/api/v1/enterprise/me/benefits/{grant_id}")
def _our_benefit(engine: Engine, client: httpx.Client, callers: Callers) -> None:
    _a, a_grant, b_grant, as_a = _enterprises(engine, callers)
    assert client.get(f"/api/v1/enterprise/me/benefits/{a_grant}", headers=as_a
                      ).status_code == 200
    assert client.get(f"/api/v1/enterprise/me/benefits/{b_grant}", headers=as_a
                      ).status_code == 404


def _enterprise_change(suffix: str, body: dict[str, object]) -> None:
    @owned("POST", "/api/v1/enterprise/me/benefits/{grant_id}" + suffix)
    def case(engine: Engine, client: httpx.Client, callers: Callers) -> None:
        _a, _a_grant, b_grant, as_a = _enterprises(engine, callers)
        answer = client.post(f"/api/v1/enterprise/me/benefits/{b_grant}{suffix}",
                             headers=as_a, json=body)
        assert answer.status_code == 404
        with engine.connect() as connection:
            state = connection.execute(text("SELECT state FROM benefit_grant WHERE id = :g"),
                                       {"g": b_grant}).scalar_one()
        assert state == "awaiting_confirmation" and _objections(engine) == 0


_enterprise_change("/objection", {"text": "这是别家企业的待遇"})
_enterprise_change("/confirmation", {"accept": False})
