"""Staff read API over grants, decisions, reviews, payments and the audit log, on both
databases: filters and keyset pages agree with what the sweep wrote, a reviewer's decision moves
the grant, roles are enforced, bad input is a 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.audit import service as audit
from app.auth.deps import current_principal
from app.auth.principal import Principal
from app.db import session_scope
from app.main import create_app
from eligibility.payments.batch import create_batch
from eligibility.sweeps.service import run_sweep
from tests.support import data
from tests.support.evaluator import ELDERLY_CARD, LONGEVITY, TestBackend

STAFF = {role: Principal(kind="staff", id=f"u-{role}", roles=frozenset({role}))
         for role in ("officer", "reviewer", "auditor", "approver")}


@pytest.fixture
def city(engine: Engine, tmp_path: Path) -> dict[str, str]:
    people = {
        "old": data.add_person(engine, 1, date(1950, 5, 1)),
        "no_mobile": data.add_person(engine, 2, date(1950, 6, 1), mobile=False),
        "young": data.add_person(engine, 3, date(1990, 5, 1)),
    }
    run_sweep(date(2025, 11, 1), full=True, engine=engine,
              backend=TestBackend([LONGEVITY, ELDERLY_CARD]))
    with session_scope(engine) as session:
        create_batch(session, "2025-11", tmp_path)
    return people


@pytest.fixture
def client(engine: Engine) -> Iterator[tuple[TestClient, dict[str, Principal | None]]]:
    api = create_app()
    api.state.engine = engine
    who: dict[str, Principal | None] = {"as": None}
    api.dependency_overrides[current_principal] = lambda: who["as"]
    with TestClient(api) as test_client:
        yield test_client, who


def test_grants_and_decisions_filter_and_page(client: tuple[TestClient, dict], city: dict) -> None:
    http, who = client
    who["as"] = STAFF["officer"]
    everything = http.get("/api/v1/grants", params={"limit": 500}).json()
    assert everything["next_cursor"] is None and len(everything["items"]) == 4
    pages, cursor = [], None
    while True:
        page = http.get("/api/v1/grants", params={"limit": 1, "cursor": cursor}).json()
        pages += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == everything["items"]
    mine = http.get("/api/v1/grants", params={"subject": city["old"]}).json()["items"]
    assert {g["policy_id"] for g in mine} == {"test-longevity", "test-elderly-card"}
    detail = http.get(f"/api/v1/grants/{mine[0]['id']}").json()
    assert detail["decision"]["inputs_hash"] and detail["events"][0]["reason"] == "matched"

    who["as"] = STAFF["auditor"]
    longevity = http.get("/api/v1/decisions", params={"policy_id": "test-longevity",
                                                      "eligible": "true"}).json()["items"]
    assert {d["subject_key"] for d in longevity} == {city["old"], city["no_mobile"]}
    assert http.get("/api/v1/decisions", params={"subject": city["young"]}).json()["items"] == []
    one = http.get(f"/api/v1/decisions/{longevity[0]['id']}").json()
    assert one["explanation"] and one["is_current"] is True
    assert http.get("/api/v1/decisions/999999").status_code == 404


def test_reviewer_decides_a_flagged_case(client: tuple[TestClient, dict], city: dict) -> None:
    http, who = client
    who["as"] = STAFF["reviewer"]
    queue = http.get("/api/v1/reviews").json()["items"]
    assert [item["reasons"] for item in queue] == ["no_mobile"] * len(queue) and queue
    decided = http.post(f"/api/v1/reviews/{queue[0]['id']}/decision",
                        json={"approve": True, "note": "已电话核实"})
    assert decided.status_code == 200 and decided.json()["state"] == "granted"
    again = http.post(f"/api/v1/reviews/{queue[0]['id']}/decision", json={"approve": True})
    assert again.status_code == 409 and again.json()["error"]["message"] == "该复核事项已处理"
    assert http.post("/api/v1/reviews/1/decision", json={"approve": "maybe"}).status_code == 422


def test_payments_and_batches(client: tuple[TestClient, dict], city: dict) -> None:
    http, who = client
    who["as"] = STAFF["officer"]
    ledger = http.get("/api/v1/payments", params={"period": "2025-11"}).json()["items"]
    assert ledger and all(p["period"] == "2025-11" for p in ledger)
    batch = http.get("/api/v1/payments/batches/2025-11").json()
    assert batch["payment_count"] == sum(p["status"] == "batched" for p in ledger)
    assert http.get("/api/v1/payments", params={"period": "2025-13"}).status_code == 422
    assert http.get("/api/v1/payments/batches/2031-01").status_code == 404


def test_audit_proofs_for_auditors_only(client: tuple[TestClient, dict], engine: Engine) -> None:
    http, who = client
    assert http.get("/api/v1/audit/tree-heads/latest").status_code == 404
    with session_scope(engine) as session:
        for n in range(3):
            audit.append(session, "policy_approved", {
                "record_id": f"p{n}", "policy_id": f"p{n}", "policy_version_hash": "ab" * 32,
                "author_id": "u-officer", "approver_id": "u-approver",
                "effective_from": date(2026, 1, 1)})
        audit.publish_tree_head(session)
    head = http.get("/api/v1/audit/tree-heads/latest").json()
    assert head["tree_size"] == 3
    assert http.get("/api/v1/audit/entries/1/proof").status_code == 401
    who["as"] = STAFF["officer"]
    assert http.get("/api/v1/audit/entries/1/proof").status_code == 403
    who["as"] = STAFF["auditor"]
    proof = http.get("/api/v1/audit/entries/1/proof").json()
    assert proof["tree_size"] == 3 and proof["leaf_index"] == 1


@pytest.mark.parametrize("path", ["/api/v1/grants", "/api/v1/decisions", "/api/v1/reviews",
                                  "/api/v1/payments", "/api/v1/payments/batches"])
def test_staff_routes_refuse_anonymous_and_citizens(
        client: tuple[TestClient, dict], path: str) -> None:
    http, who = client
    assert http.get(path).status_code == 401
    who["as"] = Principal(kind="citizen", id="c", subject_key="k")
    response = http.get(path)
    assert response.status_code == 403 and response.json()["error"]["message"]
