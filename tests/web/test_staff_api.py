"""The staff explanation API over real HTTP on the seeded city: an eligible decision explained in
plain Chinese on its own as-of date, a missing decision answered in the one error format; the
approval page refuses an approver's own version even when the disabled button is bypassed."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.auth.principal import Principal
from eligibility.registry import service
from tests.web.conftest import ROOT, LiveServer, WebCity
from tests.web.signin import client_as

pytestmark = pytest.mark.postgres
AUDITOR = Principal(kind="staff", id="api.auditor", roles=frozenset({"auditor"}),
                    display_name="审计员")


def test_a_decision_is_explained_in_plain_chinese(live_server: LiveServer,
                                                  web_city: WebCity) -> None:
    with web_city.engine.connect() as connection:
        decision_id, policy_id, as_of = connection.execute(text(
            "SELECT id, policy_id, as_of FROM decision WHERE eligible AND policy_id = "
            "'elderly-card' ORDER BY id LIMIT 1")).one()
    with client_as(live_server, AUDITOR) as client:
        answer = client.get(f"/api/v1/decisions/{decision_id}/explanation")
        missing = client.get("/api/v1/decisions/2147483000/explanation")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["decision_id"] == decision_id and body["policy_id"] == policy_id
    assert body["eligible"] is True and body["summary"].startswith("符合")
    assert body["as_of"] == as_of.isoformat()
    assert all(c["passed"] for c in body["conditions"]) and body["conditions"]
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "NotFound", "message": "未找到该决定"}}


def test_an_approver_cannot_approve_their_own_version_even_by_a_forged_post(
        live_server: LiveServer, web_city: WebCity) -> None:
    author = f"author.{random.randrange(10**9)}"
    text_ = (ROOT / "policies" / "longevity-allowance.yaml").read_text(encoding="utf-8").replace(
        "value: 60000}", f"value: {random.randrange(60_100, 90_000, 100)}}}")
    with Session(web_city.engine) as session:
        version, issues = service.create_draft(session, text_, author)
        assert not issues
        service.submit(session, version, author)
        version_id = version.id
        session.commit()
    me = Principal(kind="staff", id=author, roles=frozenset({"approver"}), display_name="审批人")
    with client_as(live_server, me) as client:
        queue = client.get("/officer/approvals")
        answer = client.post(f"/officer/approvals/{version_id}", data={"effective_from": ""})
    assert "四眼原则" in queue.text
    assert answer.status_code == 403 and "审批人不能是该政策版本的起草人或提交人" in answer.text
    with web_city.engine.connect() as connection:
        state = connection.execute(text("SELECT state FROM policy_version WHERE id = :i"),
                                   {"i": version_id}).scalar_one()
    assert state == "submitted"
