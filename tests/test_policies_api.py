"""``/api/v1/policies`` and the auditors' replay route through FastAPI's TestClient on real
SQLite and PostgreSQL: officers upload, validate (line and column), test, preview and submit;
an approver approves (never their own: four eyes) and retires; any staff reads; citizens and
anonymous callers are refused; an auditor replays a decision, an officer may not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.auth.deps import current_principal
from app.auth.principal import Principal
from app.main import create_app
from eligibility.grants.models import Decision
from eligibility.sweeps.engine_backend import EngineBackend
from eligibility.sweeps.service import run_sweep
from tests.eligibility.helpers import policy_text
from tests.eligibility.registry_helpers import (
    LONGEVITY_TEXT,
    approved,
    longevity_paying,
    state_of,
)
from tests.eligibility.test_repository import AS_OF, populate, valid_data_key

__all__ = ["valid_data_key"]  # autouse fixture: a valid development data key
YAML = {"content-type": "application/yaml"}


def staff(user: str, *roles: str) -> Principal:
    return Principal(kind="staff", id=user, roles=frozenset(roles))


OFFICER = staff("officer.li", "officer")
OTHER_OFFICER = staff("officer.wang", "officer")
APPROVER = staff("approver.zhao", "approver")
AUDITOR = staff("auditor.sun", "auditor")
CITIZEN = Principal(kind="citizen", id="c1", subject_key="k1")


class Caller:
    principal: Principal | None = None


@pytest.fixture
def client(engine: Engine) -> Iterator[tuple[TestClient, Caller]]:
    api = create_app()
    api.state.engine = engine
    caller = Caller()
    api.dependency_overrides[current_principal] = lambda: caller.principal
    with TestClient(api) as test_client:
        yield test_client, caller


def test_the_lifecycle_over_http(client: tuple[TestClient, Caller], engine: Engine) -> None:
    http, caller = client
    populate(engine)
    caller.principal = OFFICER
    created = http.post("/api/v1/policies/versions", content=LONGEVITY_TEXT.encode(),
                        headers=YAML)
    assert created.status_code == 201 and created.json()["valid"]
    version = created.json()["version"]
    ref = version["content_hash"]
    assert version["state"] == "draft" and version["author"] == "officer.li"
    assert http.post(f"/api/v1/policies/versions/{ref}/validate").json()["valid"]
    tests = http.post(f"/api/v1/policies/versions/{ref}/test").json()
    assert tests["failed"] == 0 and tests["passed"] >= 5
    preview = http.post(f"/api/v1/policies/versions/{ref}/preview",
                        params={"as_of": AS_OF.isoformat()}).json()
    assert preview["totals"]["eligible"] == 3 and preview["change"] is None
    assert http.post(f"/api/v1/policies/versions/{ref}/submit").json()["state"] == "submitted"
    assert http.post(f"/api/v1/policies/versions/{ref}/approve").status_code == 403  # role

    caller.principal = staff("officer.li", "officer", "approver")  # the author, now approving
    own = http.post(f"/api/v1/policies/versions/{ref}/approve", json={})
    assert own.status_code == 403 and "起草人" in own.json()["error"]["message"]

    caller.principal = APPROVER
    done = http.post(f"/api/v1/policies/versions/{ref}/approve",
                     json={"effective_from": "2025-01-01"})
    assert done.status_code == 200 and done.json()["state"] == "approved"
    assert done.json()["effective_from"] == "2025-01-01"
    assert state_of(engine, ref).state == "approved"  # committed before the response was sent

    caller.principal = AUDITOR  # any staff reads
    listed = {p["policy_id"]: p for p in http.get("/api/v1/policies",
                                                  params={"as_of": "2025-03-01"}).json()}
    assert listed["longevity-allowance"]["in_force_hash"] == ref
    assert http.get(f"/api/v1/policies/versions/{ref[:10]}").json()["text"] == LONGEVITY_TEXT
    [held] = http.get("/api/v1/policies/longevity-allowance/versions").json()
    assert held["approved_by"] == "approver.zhao"

    caller.principal = OTHER_OFFICER  # a revision previews against the version in force
    revision = http.post("/api/v1/policies/versions", content=longevity_paying(8_800).encode(),
                         headers=YAML).json()["version"]["content_hash"]
    change = http.post(f"/api/v1/policies/versions/{revision}/preview",
                       params={"as_of": "2025-03-01"}).json()["change"]
    assert change["against_version"] == ref and change["eligible_delta"] == 0
    assert change["cost_per_month_delta_fen"] == 8_800 - 7_500
    assert [(g["tier"], g["amount_fen"]) for g in change["by_group"]] == [("70-79", 1_300)]

    caller.principal = APPROVER
    retired = http.post(f"/api/v1/policies/versions/{ref}/retire")
    assert retired.json()["state"] == "retired" and retired.json()["retired_by"] == "approver.zhao"


def test_validation_errors_carry_line_and_column(client: tuple[TestClient, Caller]) -> None:
    http, caller = client
    caller.principal = OFFICER
    bad = http.post("/api/v1/policies/versions", headers=YAML,
                    content=policy_text("age_on(as_of) >= seventy").encode())
    body = bad.json()
    assert bad.status_code == 201 and not body["valid"] and body["version"]["content_hash"] is None
    assert (body["issues"][0]["line"], body["issues"][0]["column"]) == (19, 28)
    again = http.post(f"/api/v1/policies/versions/{body['version']['id']}/validate").json()
    assert not again["valid"] and "seventy" in again["issues"][0]["message"]
    refused = http.post(f"/api/v1/policies/versions/{body['version']['id']}/submit")
    assert refused.status_code == 422 and refused.json()["error"]["message"] == "政策文件校验未通过"
    binary = http.post("/api/v1/policies/versions", content=b"\xff\xfe", headers=YAML)
    assert binary.status_code == 422
    huge = http.post("/api/v1/policies/versions", content=b"a" * 300_000, headers=YAML)
    assert huge.status_code == 422
    assert http.get("/api/v1/policies/versions/deadbeefdeadbeef").status_code == 404


def test_who_may_do_what(client: tuple[TestClient, Caller]) -> None:
    http, caller = client
    caller.principal = None
    assert http.get("/api/v1/policies").status_code == 401
    caller.principal = CITIZEN
    assert http.get("/api/v1/policies").status_code == 403
    caller.principal = APPROVER  # approvers do not author
    upload = http.post("/api/v1/policies/versions", content=LONGEVITY_TEXT.encode(), headers=YAML)
    assert upload.status_code == 403
    caller.principal = AUDITOR
    assert http.get("/api/v1/policies").status_code == 200
    assert http.get("/api/v1/audit/decisions/1/replay").status_code == 404


def test_an_auditor_replays_a_decision(client: tuple[TestClient, Caller], engine: Engine) -> None:
    http, caller = client
    populate(engine)
    approved(engine, LONGEVITY_TEXT, date(2020, 1, 1))
    run_sweep(AS_OF, full=True, engine=engine, backend=EngineBackend(engine))
    with Session(engine) as session:
        decisions = session.exec(select(Decision).order_by(col(Decision.id))).all()
        longevity = next(d.id for d in decisions if d.policy_id == "longevity-allowance")
        card = next(d.id for d in decisions if d.policy_id == "elderly-card")  # bundled file
    caller.principal = OFFICER
    assert http.get(f"/api/v1/audit/decisions/{longevity}/replay").status_code == 403
    caller.principal = AUDITOR
    for decision_id in (longevity, card):
        report = http.get(f"/api/v1/audit/decisions/{decision_id}/replay").json()
        assert report["outcome"] == "identical" and report["differences"] == []
