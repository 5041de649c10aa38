"""The staff explanation API over real HTTP on the seeded city: an eligible decision explained in
plain Chinese on its own as-of date, a missing decision answered in the one error format."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.auth.principal import Principal
from tests.web.conftest import LiveServer, WebCity
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
