"""Grant changes reach the SMS outbox in the same transaction, exactly once, through the real
engine and the bundled 高龄津贴 policy; a death cancels what is pending and is never announced."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from eligibility.grants.hooks import Death, GrantChange, Hook, fire
from eligibility.sweeps.service import run_sweep
from notifications import grant_hooks
from notifications.models import Notification
from tests.support import data


def _messages(engine: Engine, subject_key: str) -> list[Notification]:
    with Session(engine) as session:
        query = select(Notification).where(col(Notification.subject_key) == subject_key)
        return list(session.exec(query))


def test_birthday_grant_queues_one_sms_and_a_death_cancels_it(engine: Engine) -> None:
    grant_hooks.install()
    chen = data.add_person(engine, 70, date(1955, 11, 22))

    run_sweep(date(2025, 11, 22), full=True, engine=engine)
    run_sweep(date(2025, 11, 22), full=True, engine=engine)

    granted = [m for m in _messages(engine, chen) if m.event_kind == "granted"]
    assert (
        len({m.grant_ref for m in granted}) == len(granted) >= 2
    )  # allowance + card(s), once each
    [message] = [m for m in granted if "高龄津贴" in m.body]
    assert message.body.startswith("【禅城区民政局】") and "【" not in message.body[1:]
    assert message.status == "created"

    with Session(engine) as session:
        fire(session, Hook.SUBJECT_DIED, [Death(chen, date(2025, 11, 23), None)])
        session.commit()
    assert {m.status for m in _messages(engine, chen)} == {"cancelled"}


def test_an_ending_caused_by_death_sends_nothing(engine: Engine) -> None:
    grant_hooks.install()
    chen = data.add_person(engine, 71, date(1950, 1, 5))
    ended = GrantChange(
        1,
        "longevity-allowance",
        "person",
        chen,
        "granted",
        "ended",
        "death",
        date(2025, 12, 1),
        7500,
        "70-79",
    )
    moved = GrantChange(
        2,
        "longevity-allowance",
        "person",
        chen,
        "granted",
        "ended",
        "moved_away",
        date(2025, 12, 1),
        7500,
        "70-79",
    )
    with Session(engine) as session:
        fire(session, Hook.GRANT_CHANGED, [ended, moved])
        session.commit()
    [message] = _messages(engine, chen)
    assert message.event_kind == "ended" and "户籍已迁出本区" in message.body


def test_a_payment_batch_queues_one_payment_sms_per_payment_once(
    engine: Engine, tmp_path: Path
) -> None:
    from eligibility.payments.batch import create_batch

    grant_hooks.install()
    chen = data.add_person(engine, 72, date(1950, 1, 5))
    run_sweep(date(2025, 11, 22), full=True, engine=engine)
    for _ in range(2):  # re-running the batch for the period sends nothing twice
        with Session(engine) as session:
            create_batch(session, "2025-11", tmp_path)
            session.commit()

    [paid] = [m for m in _messages(engine, chen) if m.event_kind == "payment_made"]
    assert paid.body.startswith("【禅城区民政局】") and "高龄津贴" in paid.body
    assert paid.period == "2025-11-regular"
