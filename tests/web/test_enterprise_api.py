"""The enterprise JSON API under /api/v1/enterprise/me over real HTTP on the seeded city:
matched policies and near misses from the same compiled conditions as the sweep, bank-account
confirmation exactly once (account encrypted, masked on display), another enterprise's grant
out of reach."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.web import people
from tests.web.conftest import LiveServer, WebCity
from tests.web.signin import client_as, enterprise

pytestmark = pytest.mark.postgres
ACCOUNT = {"bank_name": "中国工商银行佛山分行", "holder": "测试企业有限公司",
           "account_number": "6222020200112233445"}


def test_policies_split_into_matched_near_misses_and_the_rest(live_server: LiveServer,
                                                              web_city: WebCity) -> None:
    uscc, grant_id = people.enterprise_awaiting_confirmation(web_city.engine)
    with client_as(live_server, enterprise(uscc)) as client:
        overview = client.get("/api/v1/enterprise/me/policies").json()
    assert overview["profile"]["uscc"] == uscc
    matched = {m["policy_id"]: m for m in overview["matched"]}
    assert any(m["benefit"] and m["benefit"]["grant_id"] == grant_id for m in matched.values())
    everything = overview["matched"] + overview["near_misses"] + overview["not_matched"]
    assert len({m["policy_id"] for m in everything}) == len(everything) == 3
    for miss in overview["near_misses"]:
        assert not miss["eligible"] and miss["failing"]
        assert miss["conditions_total"] - miss["conditions_passed"] <= 2


def test_bank_account_confirmation_happens_once(live_server: LiveServer,
                                                web_city: WebCity) -> None:
    uscc, grant_id = people.enterprise_awaiting_confirmation(web_city.engine, 1)
    with client_as(live_server, enterprise(uscc)) as client:
        missing = client.post(f"/api/v1/enterprise/me/benefits/{grant_id}/confirmation",
                              json={"accept": True})
        assert missing.status_code == 422
        bad = client.post(f"/api/v1/enterprise/me/benefits/{grant_id}/confirmation",
                          json={"accept": True, "account": {**ACCOUNT, "account_number": "12ab"}})
        assert bad.status_code == 422
        done = client.post(f"/api/v1/enterprise/me/benefits/{grant_id}/confirmation",
                           json={"accept": True, "account": ACCOUNT})
        again = client.post(f"/api/v1/enterprise/me/benefits/{grant_id}/confirmation",
                            json={"accept": True, "account": ACCOUNT})
        detail = client.get(f"/api/v1/enterprise/me/benefits/{grant_id}").json()
    assert done.status_code == 200 and done.json()["state"] != "awaiting_confirmation"
    assert again.status_code == 409
    assert detail["payee_account"]["account_masked"].endswith("3445")
    with web_city.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT pii, account_masked FROM payee_account WHERE grant_id = :g"),
            {"g": grant_id}).all()
    assert len(rows) == 1 and ACCOUNT["account_number"] not in rows[0][0]


def test_another_enterprises_grant_is_out_of_reach(live_server: LiveServer,
                                                   web_city: WebCity) -> None:
    uscc, _ = people.enterprise_awaiting_confirmation(web_city.engine)
    other = people.enterprise_grant_of_other(web_city.engine, uscc)
    with client_as(live_server, enterprise(uscc)) as client:
        assert client.get(f"/api/v1/enterprise/me/benefits/{other}").status_code == 404
        assert client.post(f"/api/v1/enterprise/me/benefits/{other}/confirmation",
                           json={"accept": False}).status_code == 404
        assert client.post(f"/api/v1/enterprise/me/benefits/{other}/objection",
                           json={"text": "这是别家企业的待遇"}).status_code == 404
