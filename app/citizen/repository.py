"""Queries only the citizen portal needs: the birth certificates that make a citizen the
payee of a child's benefit, payments, the person row, and the refusal of automated decisions.
Grant queries shared with the enterprise portal are in ``app.portal.repository``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, bindparam, exists
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, or_, select

from app.datahub.models import BirthCertificate, Person
from eligibility.grants.models import AutomationRefusal, Grant, Objection
from eligibility.payments.models import Payment

BENEFIT_COLUMNS = ("id", "policy_id", "subject_key", "state", "amount_fen", "period_kind", "tier",
                   "start_date", "end_date", "notice_ends_on")


def children_certificates(session: Session, subject_key: str) -> list[str]:
    """Birth certificate numbers (the subject key of child policies) of a parent's children."""
    statement = select(BirthCertificate.certificate_no).where(
        or_(col(BirthCertificate.mother_key) == subject_key,
            col(BirthCertificate.father_key) == subject_key)
    )
    return list(session.exec(statement).all())


def _my_grants_statement() -> Any:
    # "key IN (own key UNION ALL children's certificates)", not "key = own OR key IN (...)":
    # PostgreSQL answers the OR form with a sequential scan of every grant.
    own = bindparam("key", type_=String)
    keys = sa_select(own.label("key")).union_all(
        sa_select(col(BirthCertificate.certificate_no)).where(
            or_(col(BirthCertificate.mother_key) == own, col(BirthCertificate.father_key) == own)
        )
    )
    open_objection = exists().where(
        col(Objection.grant_id) == col(Grant.id), col(Objection.status) == "open"
    )
    columns = [getattr(Grant, name) for name in BENEFIT_COLUMNS]
    return (
        sa_select(*columns, open_objection.label("objected"))
        .where(col(Grant.subject_key).in_(keys))
        .order_by(col(Grant.start_date).desc(), col(Grant.id).desc())
    )


# Built once: constructing the statement cost more than running it (the hottest query).
MY_GRANTS = _my_grants_statement()


def my_grants(session: Session | Connection, subject_key: str) -> list[Any]:
    """The citizen's own grants and their children's, newest first, each with whether an
    objection to it is open (``objected``): one statement of the columns a benefit view needs,
    without ORM entities (this is the portal's hottest query). Takes a unit of work or, on the
    lean read-only path, a bare connection."""
    connection = session.connection() if isinstance(session, Session) else session
    return list(connection.execute(MY_GRANTS, {"key": subject_key}).all())


def payments_of(session: Session, keys: Sequence[str], limit: int = 200) -> list[Payment]:
    statement = (
        select(Payment).where(col(Payment.subject_key).in_(keys))
        .order_by(col(Payment.period).desc(), col(Payment.id).desc()).limit(limit)
    )
    return list(session.exec(statement).all())


def person(session: Session, subject_key: str) -> Person | None:
    return session.exec(select(Person).where(col(Person.subject_key) == subject_key)).first()


def refusal(session: Session, subject_key: str) -> AutomationRefusal | None:
    return session.get(AutomationRefusal, subject_key)
