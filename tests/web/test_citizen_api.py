"""The citizen JSON API under /api/v1/me over real HTTP on the seeded city: a citizen sees
exactly their own records (and their children's benefits), never another citizen's whatever id
they send; objections and refusals are recorded once; personal data is masked."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, text
from sqlmodel import col

from app.db import session_scope
from eligibility.grants.models import Grant
from tests.web import people
from tests.web.conftest import LiveServer, WebCity
from tests.web.signin import citizen, client_as, enterprise

pytestmark = pytest.mark.postgres


def _grant_ids(city: WebCity, keys: list[str]) -> set[int]:
    with city.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id FROM benefit_grant WHERE subject_key = ANY(:keys)"), {"keys": keys})
        return {int(r[0]) for r in rows}


def test_my_benefits_are_exactly_my_grants(live_server: LiveServer, web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir)
    with client_as(live_server, citizen(me.subject_key)) as client:
        response = client.get("/api/v1/me/benefits")
    assert response.status_code == 200
    benefits = response.json()
    assert {b["grant_id"] for b in benefits} == _grant_ids(web_city, [me.subject_key])
    granted = [b for b in benefits if b["state"] == "granted" and b["period_kind"] == "month"]
    assert granted and all(b["amount_fen"] > 0 and b["state_zh"] == "已享受" for b in granted)


def test_a_parent_sees_the_child_benefit_they_receive(live_server: LiveServer,
                                                      web_city: WebCity) -> None:
    """The small city grants no child benefit, so one is recorded here for a mother's child."""
    mother, certificate_no = people.mother_with_birth_certificate(web_city.engine,
                                                                  web_city.city_dir)
    now = datetime.now(UTC)
    child_grant = Grant(
        policy_id="childcare-subsidy", policy_version="test", subject_kind="child",
        subject_key=certificate_no, episode=99, state="awaiting_confirmation", is_open=False,
        benefit_kind="cash", benefit_code="CHILDCARE", period_kind="year", amount_fen=360_000,
        start_date=date(2026, 12, 1), created_at=now, updated_at=now,
    )
    with session_scope(web_city.engine) as session:
        session.add(child_grant)
        session.flush()
        grant_id = child_grant.id
    try:
        with client_as(live_server, citizen(mother.subject_key)) as client:
            benefits = client.get("/api/v1/me/benefits").json()
        with client_as(live_server, citizen("0" * 32)) as stranger:
            assert stranger.get(f"/api/v1/me/benefits/{grant_id}").status_code == 404
    finally:
        with session_scope(web_city.engine) as session:
            session.execute(delete(Grant).where(col(Grant.id) == grant_id))
    child = [b for b in benefits if b["grant_id"] == grant_id]
    assert child and child[0]["for_child"] and child[0]["title"] == "育儿补贴"


def test_one_citizen_never_reaches_another_citizens_records(live_server: LiveServer,
                                                            web_city: WebCity) -> None:
    alice = people.citizen_with_certificate(web_city.engine, web_city.city_dir, 0)
    bob = people.citizen_with_certificate(web_city.engine, web_city.city_dir, 1)
    bobs_grant = min(_grant_ids(web_city, [bob.subject_key]))
    with web_city.engine.connect() as connection:
        bobs_cert = connection.execute(text(
            "SELECT cert_id FROM certificate WHERE subject_key = :k LIMIT 1"),
            {"k": bob.subject_key}).scalar_one()
        objections_before = connection.execute(text("SELECT count(*) FROM objection")).scalar()
    with client_as(live_server, citizen(alice.subject_key)) as client:
        assert client.get(f"/api/v1/me/benefits/{bobs_grant}").status_code == 404
        objection = client.post(f"/api/v1/me/benefits/{bobs_grant}/objection",
                                json={"text": "这不是我的待遇,但我想提出异议"})
        assert objection.status_code == 404
        assert client.post(f"/api/v1/me/benefits/{bobs_grant}/confirmation",
                           json={"accept": True}).status_code == 404
        assert client.get(f"/api/v1/me/certificates/{bobs_cert}/qr").status_code == 404
        mine = {c["cert_id"] for c in client.get("/api/v1/me/certificates").json()}
        assert bobs_cert not in mine and mine
        payments = client.get("/api/v1/me/payments").json()
        assert {p["grant_id"] for p in payments} <= _grant_ids(web_city, [alice.subject_key])
    with web_city.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM objection")).scalar() == \
            objections_before


def test_anonymous_and_enterprise_callers_are_refused(live_server: LiveServer) -> None:
    with client_as(live_server, None) as anonymous:
        response = anonymous.get("/api/v1/me/benefits")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "请先登录"
    with client_as(live_server, enterprise("91440604MA0000001X")) as company:
        assert company.get("/api/v1/me/benefits").status_code == 403


def test_profile_is_masked(live_server: LiveServer, web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir)
    with client_as(live_server, citizen(me.subject_key)) as client:
        profile = client.get("/api/v1/me/profile").json()
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", profile["id_number"])
    assert profile["id_number"][:6] == me.id_number[:6]
    assert profile["id_number"][-4:] == me.id_number[-4:]
    assert me.id_number not in str(profile)
    assert "*" in profile["name"] and re.fullmatch(r"1\d\d\*{4}\d{4}", profile["mobile"])


def test_explanation_of_a_granted_allowance(live_server: LiveServer, web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir)
    with client_as(live_server, citizen(me.subject_key)) as client:
        granted = next(b for b in client.get("/api/v1/me/benefits").json()
                       if b["state"] == "granted")
        detail = client.get(f"/api/v1/me/benefits/{granted['grant_id']}").json()
    explanation = detail["explanation"]
    assert explanation["eligible"] is True
    assert explanation["summary"].startswith("符合")
    assert explanation["conditions"] and all(c["passed"] for c in explanation["conditions"])
    assert explanation["decision_id"] is not None and len(explanation["inputs_hash"]) == 64
    assert any(i["source"] for i in explanation["inputs"])


def test_an_objection_is_recorded_once_and_encrypted(live_server: LiveServer,
                                                     web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir, 2)
    grant_id = min(_grant_ids(web_city, [me.subject_key]))
    reason = "我的户籍信息有误,请人工核实"
    with client_as(live_server, citizen(me.subject_key)) as client:
        assert client.post(f"/api/v1/me/benefits/{grant_id}/objection",
                           json={"text": "短"}).status_code == 422
        first = client.post(f"/api/v1/me/benefits/{grant_id}/objection", json={"text": reason})
        second = client.post(f"/api/v1/me/benefits/{grant_id}/objection", json={"text": reason})
        detail = client.get(f"/api/v1/me/benefits/{grant_id}").json()
    assert first.status_code == 201 and first.json()["status"] == "open"
    assert second.status_code == 409
    assert detail["benefit"]["can_object"] is False
    with web_city.engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT text_enc FROM objection WHERE grant_id = :g"), {"g": grant_id}).scalars().all()
    assert len(stored) == 1 and reason not in stored[0]


def test_refusing_automated_decisions_is_idempotent(live_server: LiveServer,
                                                    web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir, 3)
    with client_as(live_server, citizen(me.subject_key)) as client:
        assert client.get("/api/v1/me/automation-refusal").json()["refused"] in (True, False)
        first = client.post("/api/v1/me/refuse-automation").json()
        second = client.post("/api/v1/me/refuse-automation").json()
        status = client.get("/api/v1/me/automation-refusal").json()
    assert status["refused"] is True
    assert first["refused_at"] == second["refused_at"]
    with web_city.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT count(*) FROM automation_refusal WHERE subject_key = :k"),
            {"k": me.subject_key}).scalar() == 1
