"""Reads the pipeline tests assert on: grants, ledgers, events and row counts."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from eligibility.events.models import EventTask, LifeEvent
from eligibility.grants.models import Decision, Grant, GrantAmount, GrantEvent, ReviewItem
from eligibility.payments.models import Payment, PaymentBatch, RecoveryItem

COUNTED: tuple[type[SQLModel], ...] = (
    Decision, Grant, GrantEvent, GrantAmount, Payment, RecoveryItem, ReviewItem, PaymentBatch,
    LifeEvent, EventTask,
)


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            str(model.__tablename__): session.exec(select(func.count()).select_from(model)).one()
            for model in COUNTED
        }


def grants_of(engine: Engine, subject: str, policy: str = "test-longevity") -> list[Grant]:
    with Session(engine) as session:
        statement = select(Grant).where(
            col(Grant.subject_key) == subject, col(Grant.policy_id) == policy
        )
        return list(session.exec(statement.order_by(col(Grant.id))).all())


def grant(engine: Engine, grant_id: int | None) -> Grant:
    with Session(engine) as session:
        found = session.get(Grant, grant_id)
        assert found is not None
        return found


def ledger(engine: Engine, grant_id: int | None) -> list[tuple[str, str, int, str, bool]]:
    with Session(engine) as session:
        statement = select(Payment).where(col(Payment.grant_id) == grant_id)
        rows = session.exec(statement.order_by(col(Payment.period), col(Payment.kind))).all()
        return [(p.period, p.kind, p.amount_fen, p.status, p.back_pay) for p in rows]


def recoveries(engine: Engine, grant_id: int | None) -> list[tuple[str, int, str]]:
    with Session(engine) as session:
        statement = select(RecoveryItem).where(col(RecoveryItem.grant_id) == grant_id)
        rows = session.exec(statement.order_by(col(RecoveryItem.period))).all()
        return [(r.period, r.amount_fen, r.reason) for r in rows]


def event_reasons(engine: Engine, grant_id: int | None) -> list[tuple[str | None, str, str]]:
    with Session(engine) as session:
        statement = select(GrantEvent).where(col(GrantEvent.grant_id) == grant_id)
        rows = session.exec(statement.order_by(col(GrantEvent.id))).all()
        return [(e.from_state, e.to_state, e.reason) for e in rows]


def current_decision(engine: Engine, subject: str, policy: str) -> Decision:
    with Session(engine) as session:
        statement = select(Decision).where(
            col(Decision.subject_key) == subject, col(Decision.policy_id) == policy,
            col(Decision.is_current),
        )
        return session.exec(statement).one()


def open_review(engine: Engine, grant_id: int | None) -> ReviewItem:
    with Session(engine) as session:
        statement = select(ReviewItem).where(
            col(ReviewItem.grant_id) == grant_id, col(ReviewItem.status) == "open"
        )
        return session.exec(statement).one()


def audit_entries(engine: Engine) -> dict[str, list[dict[str, object]]]:
    """Payloads of the audit log by entry kind, each with its ``ref``."""
    import json

    from app.audit.models import AuditEntry

    found: dict[str, list[dict[str, object]]] = {}
    with Session(engine) as session:
        for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))):
            payload = json.loads(entry.data)["payload"]
            found.setdefault(entry.kind, []).append({**payload, "ref": entry.record_ref})
    return found


def audit_verifies(engine: Engine) -> bool:
    """Sign a tree head over the log as it stands and verify the whole log against it."""
    from app.audit.service import publish_tree_head
    from app.audit.verification import verify_log

    with Session(engine) as session:
        publish_tree_head(session)
        session.commit()
    with Session(engine) as session:
        return verify_log(session).ok
