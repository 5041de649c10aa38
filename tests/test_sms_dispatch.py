"""The sending engine against the real mock gateway over HTTP, real Redis and both databases:
failover by error rate, retry exhaustion, rate limits and daily caps, reconciliation of an
ambiguous hand-off without a duplicate, and delivery receipts pushed back by the gateway."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.main import create_app
from notifications import repository, service
from notifications.mock_gateway import ThreadedGateway
from tests.sms_support import (
    DAYTIME,
    ServedApp,
    add_person,
    dispatcher,
    payment,
    sms_settings,
)

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def gateway() -> Iterator[ThreadedGateway]:
    with ThreadedGateway() as served:
        yield served


@pytest.fixture(autouse=True)
def _fresh_gateway(gateway: ThreadedGateway) -> None:
    gateway.client.reset()
    gateway.client.configure(
        fail_rate=0.0, down=[], ambiguous_rate=0.0, callback_url=None, delivered_share=1.0
    )


def _people(engine: Engine, count: int) -> list[str]:
    with session_scope(engine) as session:
        keys = [
            add_person(session, f"4406041956{n:07d}X", mobile=f"139{n:08d}") for n in range(count)
        ]
        service.enqueue_many(session, [payment(key) for key in keys])
    return keys


def test_failover_to_the_next_provider_when_the_first_keeps_failing(
    engine: Engine, gateway: ThreadedGateway, redis_url: str
) -> None:
    _people(engine, 30)
    gateway.client.configure(down=["generic"])
    settings = sms_settings(
        gateway.url,
        providers="generic,aliyun",
        batch_size=10,
        failover_min_samples=10,
        max_attempts=5,
    )
    report = dispatcher(engine, settings, redis_url).dispatch_due()
    assert report.sent == 30 and report.technical_failure == 0
    assert report.providers["generic"] == 10  # one failing batch, then the error rate switched
    assert report.providers["aliyun"] >= 30
    messages = gateway.client.messages()
    assert {m["provider"] for m in messages} == {"aliyun"} and len(messages) == 30


def test_retries_exhausted_become_technical_failure(
    engine: Engine, gateway: ThreadedGateway, redis_url: str
) -> None:
    _people(engine, 3)
    gateway.client.configure(fail_rate=1.0)
    settings = sms_settings(gateway.url, max_attempts=4)
    report = dispatcher(engine, settings, redis_url).dispatch_due()
    assert report.technical_failure == 3 and report.retrying == 9 and report.sent == 0
    with session_scope(engine) as session:
        rows = service.list_notifications(session)
        path = [
            (t.from_status, t.to_status) for t in repository.transitions_for(session, [rows[0].id])
        ]
    assert {r.attempts for r in rows} == {4} and {r.status for r in rows} == {"technical_failure"}
    assert path[-1] == ("sending", "technical_failure") and path.count(("sending", "retrying")) == 3
    assert gateway.client.stats()["requests"] == 4  # one batch request per attempt


def test_backoff_is_exponential(engine: Engine, gateway: ThreadedGateway, redis_url: str) -> None:
    _people(engine, 1)
    gateway.client.configure(fail_rate=1.0)
    settings = sms_settings(gateway.url, backoff_base_seconds=30.0)
    ship = dispatcher(engine, settings, redis_url)
    ship.dispatch_due()
    with session_scope(engine) as session:
        [row] = service.list_notifications(session)
    assert row.status == "retrying" and (row.next_attempt_at - ship.clock()).total_seconds() == 30
    assert ship.dispatch_due().claimed == 0  # not due before its backoff


def test_rate_limit_and_daily_cap_defer_never_drop(
    engine: Engine, gateway: ThreadedGateway, redis_url: str
) -> None:
    with session_scope(engine) as session:
        key = add_person(session, "440604195611221234")
        service.enqueue_many(session, [payment(key, period=f"2026-{m:02d}") for m in range(1, 8)])
    settings = sms_settings(gateway.url, per_recipient_per_hour=2, per_recipient_per_day=3)
    first = dispatcher(engine, settings, redis_url).dispatch_due()
    assert (first.sent, first.deferred) == (2, 5)
    later = dispatcher(engine, settings, redis_url, now=first_hour_later()).dispatch_due()
    assert (later.sent, later.deferred) == (1, 4)  # the daily cap (3) is reached
    with session_scope(engine) as session:
        waiting = [v for v in service.list_notifications(session) if v.status == "created"]
    assert len(waiting) == 4 and all(v.last_error == "deferred: daily cap" for v in waiting)
    assert gateway.client.stats()["accepted"] == 3


def first_hour_later() -> datetime:
    return DAYTIME + timedelta(hours=1, minutes=1)


def test_ambiguous_handoff_is_reconciled_not_resent(
    engine: Engine, gateway: ThreadedGateway, redis_url: str
) -> None:
    _people(engine, 5)
    gateway.client.configure(ambiguous_rate=1.0, ambiguous_delay_ms=1200)
    settings = sms_settings(gateway.url, read_timeout_seconds=0.4, claim_lease_seconds=60.0)
    ship = dispatcher(engine, settings, redis_url)
    report = ship.dispatch_due()
    assert report.unknown == 5 and report.sent == 0
    gateway.client.configure(ambiguous_rate=0.0)
    time.sleep(1.0)  # the gateway has answered (too late) by now
    assert ship.dispatch_due().claimed == 0  # "sending" rows are never claimed again
    assert ship.reconcile_stale().examined == 0  # not before the lease has run out
    reconciled = dispatcher(
        engine, settings, redis_url, now=DAYTIME + timedelta(seconds=61)
    ).reconcile_stale()
    assert reconciled.accepted == 5
    stats = gateway.client.stats()
    assert stats["accepted"] == 5 and stats["duplicates"] == 0
    with session_scope(engine) as session:
        assert {v.status for v in service.list_notifications(session)} == {"sent"}


def test_worker_death_after_claim_resends_only_what_the_gateway_never_got(
    engine: Engine, gateway: ThreadedGateway, redis_url: str
) -> None:
    """Rows left in ``sending`` (a killed worker) that the gateway never saw go back to the
    retry queue and are sent once."""
    _people(engine, 4)
    settings = sms_settings(gateway.url, claim_lease_seconds=60.0)
    ship = dispatcher(engine, settings, redis_url, now=DAYTIME + timedelta(seconds=61))
    with session_scope(engine) as session:  # a claim whose worker died before handing off
        rows = repository.claim_due(
            session, now=DAYTIME, limit=10, token="t" * 32, statuses=["created"], urgent_only=False
        )
        repository.set_status(
            session,
            [r.id for r in rows],
            expected=["created"],
            token="t" * 32,
            status="sending",
            provider="generic",
            attempts=1,
        )
    assert ship.reconcile_stale().resent_later == 4
    assert ship.dispatch_due().sent == 4
    assert gateway.client.stats()["duplicates"] == 0


def test_gateway_pushes_receipts_to_the_callback(
    engine: Engine, gateway: ThreadedGateway, redis_url: str
) -> None:
    _people(engine, 20)
    api = create_app()
    api.state.engine = engine
    with ServedApp(api) as served:
        gateway.client.configure(
            callback_url=f"{served.url}/api/v1/notifications/receipts",
            callback_token="development-sms-callback-token",
            delivered_share=0.75,
            seed=7,
            report_delay_ms=50,
        )
        for provider in ("aliyun", "tencent", "generic"):
            with session_scope(engine) as session:
                keys = [
                    add_person(session, f"4406041990{n:07d}{provider[0]}", mobile=f"137{n:08d}")
                    for n in range(3)
                ]
                service.enqueue_many(session, [payment(k, grant_ref=provider) for k in keys])
            dispatcher(
                engine, sms_settings(gateway.url, providers=provider), redis_url
            ).dispatch_due()
        deadline = time.monotonic() + 60  # receipts arrive asynchronously; generous under CI load
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                counts = service.delivery_stats(session).by_status
            if counts.get("sent", 0) == 0 and counts.get("created", 0) == 0:
                break
            time.sleep(0.2)
    assert sum(counts.values()) == 29
    assert counts.get("delivered", 0) + counts.get("temporary_failure", 0) == 29
    assert counts.get("temporary_failure", 0) > 0 and counts.get("delivered", 0) > 0
