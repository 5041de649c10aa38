"""Staff routes over the SMS outbox on real PostgreSQL: the filtered keyset list (status,
policy through the grant, subject, creation dates) without text or mobile, and one message
with its delivery attempts and provider receipts, the mobile masked and the view access-logged.
Citizens, departments and staff without the role are refused (``tests/access_table.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.auth.deps import current_principal
from app.auth.principal import Principal
from app.db import session_scope
from app.main import create_app
from eligibility.sweeps.service import run_sweep
from notifications import repository, service
from notifications.providers.base import Receipt
from tests.sms_support import add_person, payment
from tests.support import data
from tests.support.evaluator import LONGEVITY, TestBackend

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
AUDITOR = Principal(kind="staff", id="u-auditor", roles=frozenset({"auditor"}))
ID_A, ID_B = data.id_number(date(1950, 11, 22), 11), data.id_number(date(1950, 11, 22), 12)


@pytest.fixture
def outbox(engine: Engine) -> dict[str, object]:
    with session_scope(engine) as session:
        a = add_person(session, ID_A, birth_date=date(1950, 11, 22), mobile="13812345678")
        b = add_person(session, ID_B, birth_date=date(1950, 11, 22), mobile="13987654321",
                       sex="F")
    run_sweep(date(2026, 11, 22), full=True, engine=engine, backend=TestBackend([LONGEVITY]))
    with engine.connect() as connection:
        grant = connection.execute(text("SELECT id FROM benefit_grant WHERE subject_key = :k"),
                                   {"k": a}).scalar_one()
    with session_scope(engine) as session:
        ids = service.enqueue_many(session, [
            payment(a, grant_ref=f"grant-{grant}"), payment(b), payment(b, period="2026-12"),
        ]).ids
        now = datetime.now(UTC)
        repository.move(session, [ids[0]], expected="created", to_status="sending", at=now,
                        detail="claimed")
        repository.move(session, [ids[0]], expected="sending", to_status="sent", at=now,
                        detail="provider generic")
        key = session.execute(text("SELECT unique_key FROM notification WHERE id = :i"),
                              {"i": ids[0]}).scalar_one()
        service.apply_receipts(session, [Receipt(out_id=key, provider_message_id=None,
                                                 delivered=True, permanent=False,
                                                 code="DELIVRD")])
    return {"a": a, "b": b, "ids": ids}


@pytest.fixture
def http(engine: Engine) -> Iterator[TestClient]:
    api = create_app()
    api.state.engine = engine
    api.dependency_overrides[current_principal] = lambda: AUDITOR
    with TestClient(api) as client:
        yield client


def test_staff_list_filters_and_pages(http: TestClient, outbox: dict) -> None:
    everything = http.get("/api/v1/notifications").json()
    assert [n["id"] for n in everything["items"]] == outbox["ids"]
    assert all("body" not in n and "mobile" not in str(n) for n in everything["items"])
    pages, cursor = [], None
    while True:
        page = http.get("/api/v1/notifications", params={"limit": 1, "cursor": cursor}).json()
        pages += [n["id"] for n in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert pages == outbox["ids"]
    delivered = http.get("/api/v1/notifications", params={"status": "delivered"}).json()
    assert [n["id"] for n in delivered["items"]] == outbox["ids"][:1]
    assert delivered["items"][0]["status_zh"] == "已送达"
    by_policy = http.get("/api/v1/notifications", params={"policy_id": LONGEVITY.id}).json()
    assert [n["policy_id"] for n in by_policy["items"]] == [LONGEVITY.id]
    by_subject = http.get("/api/v1/notifications", params={"subject": ID_B}).json()
    assert {n["subject_key"] for n in by_subject["items"]} == {outbox["b"]}
    assert len(by_subject["items"]) == 2
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert http.get("/api/v1/notifications", params={"created_from": later}).json()["items"] == []
    assert http.get("/api/v1/notifications", params={"created_before": later}
                    ).json()["items"] != []
    assert http.get("/api/v1/notifications", params={"status": "lost"}).status_code == 422
    assert http.get("/api/v1/notifications", params={"created_from": "yesterday"}
                    ).status_code == 422


def test_one_message_with_attempts_receipts_and_masked_mobile(
    http: TestClient, outbox: dict, engine: Engine
) -> None:
    first = outbox["ids"][0]
    answer = http.get(f"/api/v1/notifications/{first}")
    assert answer.status_code == 200
    detail = answer.json()
    assert detail["mobile_masked"] == "138****5678" and "13812345678" not in answer.text
    steps = [(s["kind"], s["to_status"]) for s in detail["history"]]
    assert ("attempt", "sent") in steps and ("receipt", "delivered") in steps
    assert detail["policy_id"] == LONGEVITY.id and detail["status"] == "delivered"
    with engine.connect() as connection:
        logged = connection.execute(text(
            "SELECT count(*) FROM personal_data_access WHERE subject_key = :k AND purpose = "
            "'notification_detail'"), {"k": outbox["a"]}).scalar_one()
    assert logged == 1
    assert http.get("/api/v1/notifications/999999").status_code == 404
    assert http.get("/api/v1/notifications/0").status_code == 422
