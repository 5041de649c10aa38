"""Queries both portals use: a holder's grants (ownership in the query itself), the decision
behind a grant, objections, and confirmed payee accounts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.portal.models import PayeeAccount
from eligibility.grants.models import Decision, Grant, Objection


def grants_of(session: Session, keys: Sequence[str]) -> list[Grant]:
    statement = (
        select(Grant).where(col(Grant.subject_key).in_(keys))
        .order_by(col(Grant.start_date).desc(), col(Grant.id).desc())
    )
    return list(session.exec(statement).all())


def grant_of(session: Session, keys: Sequence[str], grant_id: int) -> Grant | None:
    """The grant only when it belongs to one of ``keys``."""
    statement = select(Grant).where(col(Grant.id) == grant_id, col(Grant.subject_key).in_(keys))
    return session.exec(statement).first()


def decision(session: Session, decision_id: int | None) -> Decision | None:
    return session.get(Decision, decision_id) if decision_id is not None else None


def objections_of(session: Session, grant_ids: Sequence[int]) -> list[Objection]:
    if not grant_ids:
        return []
    statement = (select(Objection).where(col(Objection.grant_id).in_(grant_ids))
                 .order_by(col(Objection.id)))
    return list(session.exec(statement).all())


def open_objection(session: Session, grant_id: int) -> Objection | None:
    statement = select(Objection).where(
        col(Objection.grant_id) == grant_id, col(Objection.status) == "open"
    )
    return session.exec(statement).first()


def payee_account(session: Session, grant_id: int) -> PayeeAccount | None:
    statement = select(PayeeAccount).where(col(PayeeAccount.grant_id) == grant_id)
    return session.exec(statement).first()
