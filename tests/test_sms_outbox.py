"""The outbox on SQLite and PostgreSQL: exactly-once enqueue in the caller's transaction, a
death cancelling pending messages, opt-out, fallback tasks, quiet hours with a frozen clock,
and idempotent receipts through the authenticated callback."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import time_machine
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.main import create_app
from notifications import repository, service
from notifications.mock_gateway import ThreadedGateway
from notifications.models import EventKind
from notifications.templates import TemplateError
from tests.sms_support import (
    DAYTIME,
    add_death,
    add_person,
    dispatcher,
    payment,
    sms_settings,
)

ID_A, ID_B = "440604195611221234", "44060419560101123X"


@pytest.fixture(scope="module")
def gateway() -> Iterator[ThreadedGateway]:
    with ThreadedGateway() as served:
        yield served


@pytest.fixture(autouse=True)
def _fresh_gateway(gateway: ThreadedGateway) -> None:
    gateway.client.reset()
    gateway.client.configure(fail_rate=0.0, down=[], ambiguous_rate=0.0, callback_url=None)


def _statuses(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [v.status for v in service.list_notifications(session)]


def test_enqueue_twice_creates_nothing_new(engine: Engine) -> None:
    with session_scope(engine) as session:
        key = add_person(session, ID_A)
        first = service.enqueue(session, payment(key), now=DAYTIME)
    with session_scope(engine) as session:
        again = service.enqueue_many(session, [payment(key), payment(key)], now=DAYTIME)
        other_month = service.enqueue(session, payment(key, period="2026-12"), now=DAYTIME)
    assert (first.created, again.created, again.existing, other_month.created) == (1, 0, 2, 1)
    with session_scope(engine) as session:
        rows = service.list_notifications(session)
        transitions = repository.transitions_for(session, [r.id for r in rows])
    assert len(rows) == 2 and rows[0].body.startswith("【禅城区民政局】陈伯您好")
    assert [(t.from_status, t.to_status) for t in transitions] == [(None, "created")] * 2


def test_enqueue_rolls_back_with_the_callers_transaction(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        service.enqueue(session, payment("a" * 32), now=DAYTIME)
        raise RuntimeError("the grant failed")
    assert _statuses(engine) == []


def test_invalid_variables_write_nothing(engine: Engine) -> None:
    with pytest.raises(TemplateError), session_scope(engine) as session:
        service.enqueue_many(
            session,
            [
                payment("a" * 32),
                payment(
                    "b" * 32,
                    variables={"paid_on": "2026-11-22", "amount_fen": 100, "note": "【广告】"},
                ),
            ],
            now=DAYTIME,
        )
    assert _statuses(engine) == []


def test_death_cancels_pending_messages_and_blocks_sending(
    engine: Engine, gateway: ThreadedGateway
) -> None:
    with session_scope(engine) as session:
        key = add_person(session, ID_A)
        service.enqueue_many(
            session,
            [payment(key), payment(key, event=EventKind.GRANTED, variables={"amount_fen": 20000})],
            now=DAYTIME,
        )
    with session_scope(engine) as session:  # the death event's transaction
        add_death(session, key)
        assert service.cancel_pending(session, key, "death record received", now=DAYTIME) == 2
    with session_scope(engine) as session:  # a message enqueued after the death still never goes
        key_later = service.enqueue(session, payment(key, period="2026-12"), now=DAYTIME)
    assert key_later.created == 1
    report = dispatcher(engine, sms_settings(gateway.url)).dispatch_due()
    assert report.cancelled == 1 and report.sent == 0
    assert _statuses(engine) == ["cancelled"] * 3
    assert gateway.client.stats()["accepted"] == 0


def test_opt_out_stops_only_non_essential_messages(
    engine: Engine, gateway: ThreadedGateway
) -> None:
    with session_scope(engine) as session:
        key = add_person(session, ID_A)
        service.opt_out(session, key)
        service.enqueue_many(
            session,
            [payment(key), payment(key, event=EventKind.GRANTED, variables={"amount_fen": 20000})],
            now=DAYTIME,
        )
    report = dispatcher(engine, sms_settings(gateway.url)).dispatch_due()
    assert (report.sent, report.cancelled) == (1, 1)
    with session_scope(engine) as session:
        by_event = {v.event_kind: v.status for v in service.list_notifications(session)}
    assert by_event == {"granted": "sent", "payment_made": "cancelled"}


def test_missing_or_invalid_mobile_creates_a_fallback_task(
    engine: Engine, gateway: ThreadedGateway
) -> None:
    with session_scope(engine) as session:
        no_mobile = add_person(session, ID_A, mobile=None)
        bad_mobile = add_person(session, ID_B, mobile="0757-1234", address=None)
        service.enqueue_many(session, [payment(no_mobile), payment(bad_mobile)], now=DAYTIME)
    report = dispatcher(engine, sms_settings(gateway.url)).dispatch_due()
    assert report.fallback == 2 and gateway.client.stats()["requests"] == 0
    with session_scope(engine) as session:
        tasks = {t.subject_key: (t.kind, t.reason) for t in repository.fallback_tasks(session)}
    assert tasks == {
        no_mobile: ("letter", "missing_mobile"),
        bad_mobile: ("community_worker", "invalid_mobile"),
    }
    # Re-running the dispatcher creates no second task.
    assert dispatcher(engine, sms_settings(gateway.url)).dispatch_due().claimed == 0


def test_quiet_hours_defer_until_eight_and_urgent_goes(
    engine: Engine, gateway: ThreadedGateway
) -> None:
    settings = sms_settings(gateway.url)
    with time_machine.travel(datetime(2026, 11, 23, 14, 30, tzinfo=UTC)):  # 22:30 Shanghai
        with session_scope(engine) as session:
            key = add_person(session, ID_A)
            service.enqueue_many(
                session, [payment(key), payment(key, period="urgent", urgent=True)]
            )
        with session_scope(engine) as session:
            due_times = sorted(v.next_attempt_at for v in service.list_notifications(session))
        assert due_times[1] == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
        assert due_times[0] < due_times[1]  # the urgent one is due now
        night = dispatcher(engine, settings, now=datetime.now(UTC)).dispatch_due()
        assert night.sent == 1  # only the urgent one
    with time_machine.travel(datetime(2026, 11, 23, 23, 59, tzinfo=UTC)):  # 07:59 Shanghai
        assert dispatcher(engine, settings, now=datetime.now(UTC)).dispatch_due().claimed == 0
    with time_machine.travel(datetime(2026, 11, 24, 0, 0, 5, tzinfo=UTC)):  # 08:00:05
        assert dispatcher(engine, settings, now=datetime.now(UTC)).dispatch_due().sent == 1
    assert gateway.client.stats()["unique"] == 2


def test_receipts_are_authenticated_and_idempotent(
    engine: Engine, gateway: ThreadedGateway
) -> None:
    from tests.sms_support import ServedApp

    with session_scope(engine) as session:
        keys = [add_person(session, ID_A), add_person(session, ID_B, mobile="13912345678")]
        service.enqueue_many(session, [payment(k) for k in keys], now=DAYTIME)
    dispatcher(engine, sms_settings(gateway.url)).dispatch_due()
    api = create_app()
    api.state.engine = engine
    with session_scope(engine) as session:
        out_ids = [row.unique_key for row in repository.list_notifications(session)]
    body = {
        "receipts": [
            {"out_id": out_ids[0], "status": "delivered", "code": "DELIVRD"},
            {"out_id": out_ids[1], "status": "permanent_failure", "code": "MN:0001"},
            {"out_id": "f" * 32, "status": "delivered", "code": "DELIVRD"},
        ]
    }
    raw = json.dumps(body).encode()
    with ServedApp(api) as served, httpx.Client(base_url=served.url, trust_env=False) as http:
        path = "/api/v1/notifications/receipts/generic"
        assert http.post(path, content=raw).status_code == 403
        assert http.post(path, content=raw, params={"token": "wrong"}).status_code == 403
        signature = hmac.new(b"development-sms-callback-token", raw, hashlib.sha256).hexdigest()
        first = http.post(
            path, content=raw, headers={"X-Mianshen-Signature": f"sha256={signature}"}
        )
        again = http.post(path, content=raw, params={"token": "development-sms-callback-token"})
    assert first.json() == {"applied": 2, "duplicates": 0, "unknown": 1}
    assert again.json() == {"applied": 0, "duplicates": 2, "unknown": 1}
    with session_scope(engine) as session:
        stats = service.delivery_stats(session, "pay-2026-11")
        rows = service.list_notifications(session)
        transitions = repository.transitions_for(session, [r.id for r in rows])
    assert stats.by_status == {"delivered": 1, "permanent_failure": 1}
    assert sorted(t.to_status for t in transitions).count("delivered") == 1
