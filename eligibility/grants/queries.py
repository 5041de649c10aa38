"""Read side of grants and decisions for staff (CLI and API): filtered, keyset-paginated lists
and a grant with everything about it. Writes live in ``service`` and ``review``."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from eligibility.grants import repository as repo
from eligibility.grants.models import Decision, Grant, ReviewItem
from eligibility.grants.schemas import GrantDetail
from eligibility.payments import repository as payments_repo


def grant_detail(session: Session, grant_id: int) -> GrantDetail | None:
    grant = repo.get_grant(session, grant_id)
    if grant is None:
        return None
    return GrantDetail.build(
        grant, repo.grant_events(session, grant_id), repo.grant_amounts(session, grant_id),
        payments_repo.ledger_of_grant(session, grant_id),
        payments_repo.recoveries_of_grant(session, grant_id),
        repo.decision(session, grant.decision_id) if grant.decision_id else None,
    )


def grants_page(session: Session, *, after_id: int, limit: int, policy_id: str | None = None,
                subject_key: str | None = None, state: str | None = None) -> list[Grant]:
    statement = select(Grant).where(col(Grant.id) > after_id)
    if policy_id:
        statement = statement.where(col(Grant.policy_id) == policy_id)
    if subject_key:
        statement = statement.where(col(Grant.subject_key) == subject_key)
    if state:
        statement = statement.where(col(Grant.state) == state)
    return list(session.exec(statement.order_by(col(Grant.id)).limit(limit)).all())


def decisions_page(session: Session, *, after_id: int, limit: int, policy_id: str | None = None,
                   subject_key: str | None = None, eligible: bool | None = None,
                   as_of: date | None = None, current_only: bool = False) -> list[Decision]:
    statement = select(Decision).where(col(Decision.id) > after_id)
    if policy_id:
        statement = statement.where(col(Decision.policy_id) == policy_id)
    if subject_key:
        statement = statement.where(col(Decision.subject_key) == subject_key)
    if eligible is not None:
        statement = statement.where(col(Decision.eligible) == eligible)
    if as_of:
        statement = statement.where(col(Decision.as_of) == as_of)
    if current_only:
        statement = statement.where(col(Decision.is_current))
    return list(session.exec(statement.order_by(col(Decision.id)).limit(limit)).all())


def reviews_page(session: Session, *, after_id: int, limit: int,
                 status: str | None = "open", kind: str | None = None) -> list[ReviewItem]:
    statement = select(ReviewItem).where(col(ReviewItem.id) > after_id)
    if status:
        statement = statement.where(col(ReviewItem.status) == status)
    if kind:
        statement = statement.where(col(ReviewItem.kind) == kind)
    return list(session.exec(statement.order_by(col(ReviewItem.id)).limit(limit)).all())
