"""Queries only the citizen portal needs: the birth certificates that make a citizen the
payee of a child's benefit, payments, the person row, and the refusal of automated decisions.
Grant queries shared with the enterprise portal are in ``app.portal.repository``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists
from sqlmodel import Session, col, or_, select

from app.datahub.models import BirthCertificate, Person
from eligibility.grants.models import AutomationRefusal, Grant, Objection
from eligibility.payments.models import Payment


def children_certificates(session: Session, subject_key: str) -> list[str]:
    """Birth certificate numbers (the subject key of child policies) of a parent's children."""
    statement = select(BirthCertificate.certificate_no).where(
        or_(col(BirthCertificate.mother_key) == subject_key,
            col(BirthCertificate.father_key) == subject_key)
    )
    return list(session.exec(statement).all())


def my_grants(session: Session, subject_key: str) -> list[tuple[Grant, bool]]:
    """The citizen's own grants and their children's, newest first, each with whether an
    objection to it is open: one statement (this is the portal's hottest query)."""
    children = select(BirthCertificate.certificate_no).where(
        or_(col(BirthCertificate.mother_key) == subject_key,
            col(BirthCertificate.father_key) == subject_key)
    )
    open_objection = exists().where(
        col(Objection.grant_id) == col(Grant.id), col(Objection.status) == "open"
    )
    statement = (
        select(Grant, open_objection.label("objected"))
        .where(or_(col(Grant.subject_key) == subject_key, col(Grant.subject_key).in_(children)))
        .order_by(col(Grant.start_date).desc(), col(Grant.id).desc())
    )
    return [(grant, bool(objected)) for grant, objected in session.exec(statement).all()]


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
