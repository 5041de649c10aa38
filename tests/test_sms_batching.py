"""The batched paths of the SMS engine on SQLite and PostgreSQL and real Redis: a status move
with its transition rows in one statement changes only rows still in the expected status and
holding the claim token, and logs exactly those; the per-batch rate-limit script counts a
recipient who appears twice in one batch twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.db import session_scope
from notifications import repository, service
from notifications.limits import ALLOWED, DAY_FULL, HOUR_FULL, RedisRateLimiter
from tests.sms_support import DAYTIME, add_person, payment, sms_settings

IDS = ["440604195611221234", "44060419560101123X", "440604195602021236"]


def _enqueue_three(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        keys = [add_person(session, number) for number in IDS]
        service.enqueue_many(session, [payment(key) for key in keys], now=DAYTIME)
        mine = select(repository.N.c.id).where(repository.N.c.subject_key.in_(keys))
        return sorted(session.execute(mine).scalars())


def test_move_changes_and_logs_only_rows_in_the_expected_state(engine: Engine) -> None:
    first, second, third = _enqueue_three(engine)
    now = DAYTIME + timedelta(minutes=1)
    with session_scope(engine) as session:
        repository.set_status(session, [first, second], expected=["created"], claim_token="t1")
        repository.set_status(session, [third], expected=["created"], claim_token="t2")
        moved = repository.move(
            session,
            [first, second, third],
            expected="created",
            to_status="sending",
            at=now,
            detail="provider generic",
            token="t1",
            attempts=repository.N.c.attempts + 1,
            updated_at=now,
        )
        again = repository.move(
            session, [first], expected="created", to_status="sending", at=now, token="t1"
        )
    assert sorted(moved) == [first, second] and again == []
    with session_scope(engine) as session:
        rows = {r.id: r for r in session.execute(select(repository.N))}
        logged = repository.transitions_for(session, [first, second, third])
    assert [rows[i].status for i in (first, second, third)] == ["sending", "sending", "created"]
    assert [rows[i].attempts for i in (first, second, third)] == [1, 1, 0]
    moves = [(t.notification_id, t.from_status, t.to_status, t.detail) for t in logged]
    assert sorted(m for m in moves if m[2] == "sending") == [
        (first, "created", "sending", "provider generic"),
        (second, "created", "sending", "provider generic"),
    ]
    assert all(t.at.astimezone(UTC) == now for t in logged if t.to_status == "sending")


def test_rate_limit_script_counts_a_batch_in_order(redis_url: str) -> None:
    settings = sms_settings("http://127.0.0.1:9", per_recipient_per_hour=2, per_recipient_per_day=3)
    limiter = RedisRateLimiter(redis.Redis.from_url(redis_url), settings)
    limiter.CHUNK = 2  # several script calls for one batch
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    verdicts = limiter.consume(["a", "b", "a", "a", "c"], now)
    assert verdicts == [ALLOWED, ALLOWED, ALLOWED, HOUR_FULL, ALLOWED]
    next_hour = limiter.consume(["a", "a"], now + timedelta(hours=1))
    assert next_hour == [ALLOWED, DAY_FULL]
