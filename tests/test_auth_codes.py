"""Citizen and enterprise sign-in with an SMS code, over real HTTP on 127.0.0.1 with the mock SMS
gateway (generic provider): the code goes out at once (even in quiet hours) in Chinese to the
registry mobile, answers never reveal whether an identity exists, codes are single use, expire,
allow 5 guesses, repeated failures lock the identity, and client addresses are throttled. No
ID number, mobile or code reaches the logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from sqlalchemy import update
from sqlalchemy.engine import Engine

from app.auth import code_sms
from app.auth.models import OneTimeCode
from app.auth.tokens import utcnow
from app.db import session_scope
from notifications.mock_gateway import ThreadedGateway, sms_settings_for
from tests.auth_support import add_enterprise, configure, served
from tests.citizens import credit_code, id_number
from tests.sms_support import add_person

CITIZEN = id_number(sequence=517)
STRANGER = id_number(sequence=519)
REP = id_number(sequence=601)
USCC = credit_code(4242)


@pytest.fixture(scope="module")
def gateway() -> Iterator[ThreadedGateway]:
    with ThreadedGateway() as running:
        yield running


@pytest.fixture
def sms(gateway: ThreadedGateway, monkeypatch: pytest.MonkeyPatch) -> ThreadedGateway:
    gateway.client.reset()
    env = {f"MIANSHEN_SMS__{k.upper()}": str(v) for k, v in sms_settings_for(gateway.url).items()}
    configure(monkeypatch, **env)
    return gateway


def _codes_sent(gateway: ThreadedGateway) -> list[tuple[str, str]]:
    """(masked mobile, code) of every message the gateway accepted, oldest first (after the
    hand-overs in flight are done)."""
    code_sms.wait_for_pending()
    found = []
    for message in gateway.client.messages():
        match = re.search(r"验证码为(\d{6})", message["content"])
        assert match, message["content"]
        found.append((message["mobile"], match.group(1)))
    return found


def _citizen_code(client: httpx.Client, number: str = CITIZEN) -> httpx.Response:
    return client.post("/api/v1/auth/citizen/code", json={"id_number": number})


def _citizen_login(client: httpx.Client, code: str, number: str = CITIZEN) -> httpx.Response:
    return client.post("/api/v1/auth/citizen/login", json={"id_number": number, "code": code})


def test_citizen_signs_in_with_the_code_sent_at_night(
    engine: Engine, sms: ThreadedGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with session_scope(engine) as session:
        subject_key = add_person(session, CITIZEN, name="陈大文", mobile="13812345678")
    night = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai: quiet hours
    with time_machine.travel(night, tick=True), served(engine) as client:
        sent = _citizen_code(client)
        assert sent.status_code == 200
        unknown = _citizen_code(client, STRANGER)
        assert unknown.status_code == 200 and unknown.json() == sent.json()
        invalid = _citizen_code(client, "440604195603011230")
        assert invalid.status_code == 422
        assert invalid.json()["error"]["message"] == "公民身份号码格式不正确"
        ((mobile, code),) = _codes_sent(sms)
        assert mobile == "138****5678"
        content = sms.client.messages()[0]["content"]
        assert content.startswith("【免申即享】") and "5分钟内有效" in content
        wrong = _citizen_login(client, "000000" if code != "000000" else "111111")
        assert wrong.status_code == 401
        assert wrong.json()["error"]["message"] == "验证码错误或已失效"
        signed_in = _citizen_login(client, code)
        assert signed_in.status_code == 200, signed_in.text
        me = client.get("/api/v1/auth/me").json()
        assert me["kind"] == "citizen" and me["display_name"] == "陈**"
        replay = _citizen_login(client, code)
        assert replay.status_code == 401
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT subject_key FROM auth_session").all()
    assert rows == [(subject_key,)]
    logged = caplog.text
    for secret in (CITIZEN, STRANGER, "13812345678", code):
        assert secret not in logged


def test_expired_code_is_refused(engine: Engine, sms: ThreadedGateway) -> None:
    with session_scope(engine) as session:
        add_person(session, CITIZEN)
    with served(engine) as client:
        assert _citizen_code(client).status_code == 200
        ((_mobile, code),) = _codes_sent(sms)
        with session_scope(engine) as session:
            session.execute(update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert _citizen_login(client, code).status_code == 401


def test_five_wrong_guesses_burn_the_code(engine: Engine, sms: ThreadedGateway) -> None:
    with session_scope(engine) as session:
        add_person(session, CITIZEN)
    with served(engine) as client:
        assert _citizen_code(client).status_code == 200
        ((_mobile, code),) = _codes_sent(sms)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            assert _citizen_login(client, wrong).status_code == 401
        assert _citizen_login(client, code).status_code == 401


def test_repeated_failures_lock_the_identity_and_resends_wait(
    engine: Engine, sms: ThreadedGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__IDENTITY_MAX_FAILURES="3",
              **{f"MIANSHEN_SMS__{k.upper()}": str(v) for k, v in
                 sms_settings_for(sms.url).items()})
    with session_scope(engine) as session:
        add_person(session, CITIZEN)
    with served(engine) as client:
        assert _citizen_code(client).status_code == 200
        again = _citizen_code(client)
        assert again.status_code == 429 and "秒后再获取验证码" in again.json()["error"]["message"]
        ((_mobile, code),) = _codes_sent(sms)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(3):
            assert _citizen_login(client, wrong).status_code == 401
        locked = _citizen_login(client, code)
        assert locked.status_code == 429 and "分钟后再试" in locked.json()["error"]["message"]
        assert int(locked.headers["Retry-After"]) > 29 * 60
        assert _citizen_code(client).status_code == 429
        # A stranger's identity locks the same way: the lock does not reveal who is registered.
        for _ in range(3):
            assert _citizen_login(client, "123456", STRANGER).status_code == 401
        assert _citizen_login(client, "123456", STRANGER).status_code == 429


def test_client_address_is_throttled(
    engine: Engine, sms: ThreadedGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_AUTH__IP_CODE_REQUESTS_PER_MINUTE="2",
              MIANSHEN_AUTH__IP_SIGN_INS_PER_MINUTE="3",
              **{f"MIANSHEN_SMS__{k.upper()}": str(v) for k, v in
                 sms_settings_for(sms.url).items()})
    with served(engine) as client:
        assert _citizen_code(client, id_number(sequence=11)).status_code == 200
        assert _citizen_code(client, id_number(sequence=13)).status_code == 200
        third = _citizen_code(client, id_number(sequence=15))
        assert third.status_code == 429 and third.headers["Retry-After"]
        for sequence in (21, 23, 25):
            assert _citizen_login(client, "123456", id_number(sequence=sequence)).status_code == 401
        assert _citizen_login(client, "123456", id_number(sequence=27)).status_code == 429


def test_enterprise_signs_in_through_its_legal_representative(
    engine: Engine, sms: ThreadedGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    add_enterprise(engine, USCC, REP, "林美玲", mobile="13900001111")
    with served(engine) as client:
        wrong_name = client.post("/api/v1/auth/enterprise/code",
                                 json={"uscc": USCC, "legal_rep_name": "张三"})
        assert wrong_name.status_code == 200
        assert _codes_sent(sms) == []
        other = client.post("/api/v1/auth/enterprise/code",
                            json={"uscc": credit_code(4343), "legal_rep_name": "林美玲"})
        assert other.status_code == 200 and other.json() == wrong_name.json()
        bad = client.post("/api/v1/auth/enterprise/code",
                          json={"uscc": "91440604MA0000000X", "legal_rep_name": "林美玲"})
        assert bad.status_code == 422
        with session_scope(engine) as session:  # the resend interval is per identity
            session.execute(update(OneTimeCode).values(created_at=utcnow() - timedelta(hours=1)))
        right = client.post("/api/v1/auth/enterprise/code",
                            json={"uscc": USCC, "legal_rep_name": "林美玲"})
        assert right.status_code == 200
        ((mobile, code),) = _codes_sent(sms)
        assert mobile == "139****1111"
        signed_in = client.post("/api/v1/auth/enterprise/login", json={"uscc": USCC, "code": code})
        assert signed_in.status_code == 200, signed_in.text
        me = client.get("/api/v1/auth/me").json()
        assert me["kind"] == "enterprise" and me["id"] == f"enterprise:{USCC}"
        replay = client.post("/api/v1/auth/enterprise/login", json={"uscc": USCC, "code": code})
        assert replay.status_code == 401
    for secret in (REP, "13900001111", "林美玲", code):
        assert secret not in caplog.text
