"""All queries of the payments ledger, and the legacy payments of the shared data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from app.datahub.models import LegacyPayment
from eligibility.grants.bulk import where_in
from eligibility.grants.models import Grant
from eligibility.payments.models import Payment, PaymentBatch, RecoveryItem

PAYMENT: Table = Payment.__table__  # type: ignore[attr-defined]
RECOVERY: Table = RecoveryItem.__table__  # type: ignore[attr-defined]
BATCH: Table = PaymentBatch.__table__  # type: ignore[attr-defined]
LEGACY: Table = LegacyPayment.__table__  # type: ignore[attr-defined]


def payments_of(connection: Connection, grant_ids: Sequence[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for condition in where_in(connection, PAYMENT.c.grant_id, list(grant_ids)):
        statement = select(PAYMENT).where(condition).order_by(PAYMENT.c.id)
        for row in connection.execute(statement):
            found.setdefault(row.grant_id, []).append(row)
    return found


def recovered_payment_ids(connection: Connection, payment_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for condition in where_in(connection, RECOVERY.c.payment_id, list(payment_ids)):
        statement = select(RECOVERY.c.payment_id).where(condition)
        found.update(row[0] for row in connection.execute(statement))
    return found


def legacy_payments(
    connection: Connection, benefit_code: str, subject_keys: Sequence[str]
) -> dict[tuple[str, str], tuple[str, int]]:
    """(subject key, period) → (payment ref, amount) already paid by legacy systems."""
    found: dict[tuple[str, str], tuple[str, int]] = {}
    for condition in where_in(connection, LEGACY.c.subject_key, sorted(set(subject_keys))):
        statement = select(
            LEGACY.c.subject_key, LEGACY.c.period, LEGACY.c.payment_ref, LEGACY.c.amount_fen
        ).where(LEGACY.c.benefit_code == benefit_code, condition)
        for key, period, ref, amount in connection.execute(statement):
            found.setdefault((key, period), (ref, amount))
    return found


def set_status(connection: Connection, payment_ids: Sequence[int], status: str, now: Any) -> None:
    for condition in where_in(connection, PAYMENT.c.id, list(payment_ids)):
        connection.execute(update(PAYMENT).where(condition).values(status=status, updated_at=now))


def hold_or_release(
    connection: Connection, grant_ids: Sequence[int], hold: bool, now: Any
) -> None:
    """Suspension holds the grants' unbatched payments; resumption releases them."""
    old, new = ("due", "held") if hold else ("held", "due")
    for condition in where_in(connection, PAYMENT.c.grant_id, list(grant_ids)):
        connection.execute(
            update(PAYMENT).where(condition, PAYMENT.c.status == old)
            .values(status=new, updated_at=now)
        )


def payable_for_batch(connection: Connection, period: str) -> list[Any]:
    """Unbatched payments of granted or ended (not suspended) grants up to ``period``."""
    grant = Grant.__table__  # type: ignore[attr-defined]
    statement = (
        select(PAYMENT)
        .join(grant, grant.c.id == PAYMENT.c.grant_id)
        .where(PAYMENT.c.status == "due", PAYMENT.c.period <= period,
               grant.c.state.in_(["granted", "ended"]))
        .order_by(PAYMENT.c.id)
    )
    return list(connection.execute(statement))


def batch_payments(connection: Connection, batch_id: int) -> list[Any]:
    statement = select(PAYMENT).where(PAYMENT.c.batch_id == batch_id).order_by(PAYMENT.c.id)
    return list(connection.execute(statement))


def get_batch(session: Session, period: str) -> PaymentBatch | None:
    statement = orm_select(PaymentBatch).where(col(PaymentBatch.period) == period)
    return session.exec(statement).first()


def ledger_of_grant(session: Session, grant_id: int) -> list[Payment]:
    statement = orm_select(Payment).where(col(Payment.grant_id) == grant_id)
    return list(session.exec(statement.order_by(col(Payment.period), col(Payment.id))).all())


def recoveries_of_grant(session: Session, grant_id: int) -> list[RecoveryItem]:
    statement = orm_select(RecoveryItem).where(col(RecoveryItem.grant_id) == grant_id)
    return list(session.exec(statement.order_by(col(RecoveryItem.id))).all())


def totals(connection: Connection) -> dict[str, int]:
    statement = select(PAYMENT.c.status, func.sum(PAYMENT.c.amount_fen)).group_by(PAYMENT.c.status)
    return {row[0]: int(row[1] or 0) for row in connection.execute(statement)}


def payments_page(session: Session, *, after_id: int, limit: int, grant_id: int | None = None,
                  period: str | None = None, status: str | None = None,
                  subject_key: str | None = None) -> list[Payment]:
    statement = orm_select(Payment).where(col(Payment.id) > after_id)
    if grant_id is not None:
        statement = statement.where(col(Payment.grant_id) == grant_id)
    if period:
        statement = statement.where(col(Payment.period) == period)
    if status:
        statement = statement.where(col(Payment.status) == status)
    if subject_key:
        statement = statement.where(col(Payment.subject_key) == subject_key)
    return list(session.exec(statement.order_by(col(Payment.id)).limit(limit)).all())


def batches(session: Session) -> list[PaymentBatch]:
    return list(session.exec(orm_select(PaymentBatch).order_by(col(PaymentBatch.period).desc())))
