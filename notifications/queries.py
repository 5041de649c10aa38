"""The staff read side of the outbox: a filtered keyset page of notifications (status, policy,
subject, creation date range) and one notification with its history, i.e. every delivery
attempt and provider receipt as recorded in ``notification_transition``. The policy comes from
the grant a message is about (``grant_ref`` ``grant-<id>``); the table is named here, not
imported, so the notifications domain stays below the grants domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, String, cast, column, literal, select, table
from sqlmodel import Session

from notifications.repository import N, T

GRANTS = table("benefit_grant", column("id", Integer), column("policy_id", String))
GRANT_REF = literal("grant-") + cast(GRANTS.c.id, String)


def _with_policy() -> Any:
    joined = N.outerjoin(GRANTS, N.c.grant_ref == GRANT_REF)
    return select(N, GRANTS.c.policy_id).select_from(joined)


def notifications_page(
    session: Session, *, after_id: int, limit: int, status: str | None = None,
    policy_id: str | None = None, subject_key: str | None = None,
    created_from: datetime | None = None, created_before: datetime | None = None,
) -> list[Row[Any]]:
    """Up to ``limit`` notifications after id ``after_id``, oldest first, each with
    ``policy_id`` (null when the message is not about a grant)."""
    statement = _with_policy().where(N.c.id > after_id)
    if status:
        statement = statement.where(N.c.status == status)
    if policy_id:
        statement = statement.where(GRANTS.c.policy_id == policy_id)
    if subject_key:
        statement = statement.where(N.c.subject_key == subject_key)
    if created_from:
        statement = statement.where(N.c.created_at >= created_from)
    if created_before:
        statement = statement.where(N.c.created_at < created_before)
    return list(session.execute(statement.order_by(N.c.id).limit(limit)))


def notification(session: Session, notification_id: int) -> Row[Any] | None:
    return session.execute(_with_policy().where(N.c.id == notification_id)).first()


def history(session: Session, notification_id: int) -> list[Row[Any]]:
    statement = select(T).where(T.c.notification_id == notification_id).order_by(T.c.id)
    return list(session.execute(statement))
