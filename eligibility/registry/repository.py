"""Queries of the policy registry. Every function takes the caller's session and never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from eligibility.registry.models import PolicyVersion, VersionState


def get(session: Session, version_id: int) -> PolicyVersion | None:
    return session.get(PolicyVersion, version_id)


def by_hash(session: Session, content_hash: str) -> PolicyVersion | None:
    statement = select(PolicyVersion).where(PolicyVersion.content_hash == content_hash)
    return session.exec(statement).first()


def by_hash_prefix(session: Session, prefix: str) -> Sequence[PolicyVersion]:
    statement = (
        select(PolicyVersion)
        .where(col(PolicyVersion.content_hash).startswith(prefix))
        .limit(2)
    )
    return session.exec(statement).all()


def versions_of(session: Session, policy_id: str) -> Sequence[PolicyVersion]:
    statement = (
        select(PolicyVersion).where(PolicyVersion.policy_id == policy_id).order_by(
            col(PolicyVersion.id)
        )
    )
    return session.exec(statement).all()


def in_state(
    session: Session, states: Sequence[VersionState], policy_id: str | None = None
) -> Sequence[PolicyVersion]:
    statement = select(PolicyVersion).where(col(PolicyVersion.state).in_([s.value for s in states]))
    if policy_id is not None:
        statement = statement.where(PolicyVersion.policy_id == policy_id)
    return session.exec(statement.order_by(col(PolicyVersion.id))).all()


def all_versions(session: Session) -> Sequence[PolicyVersion]:
    return session.exec(select(PolicyVersion).order_by(col(PolicyVersion.id))).all()


def in_force(session: Session, as_of: date) -> dict[str, PolicyVersion]:
    """Per policy id, the approved version with the latest ``effective_from`` on or before
    ``as_of`` (a later approval wins a tie)."""
    statement = (
        select(PolicyVersion)
        .where(PolicyVersion.state == VersionState.APPROVED.value)
        .where(col(PolicyVersion.effective_from) <= as_of)
        .order_by(col(PolicyVersion.effective_from), col(PolicyVersion.approved_at),
                  col(PolicyVersion.id))
    )
    found: dict[str, PolicyVersion] = {}
    for version in session.exec(statement).all():
        found[version.policy_id] = version  # later rows win
    return found


def governed_policy_ids(session: Session) -> set[str]:
    """Policy ids the registry decides for: those with an approved or retired version."""
    states = [VersionState.APPROVED.value, VersionState.RETIRED.value]
    statement = select(PolicyVersion.policy_id).where(col(PolicyVersion.state).in_(states))
    return set(session.exec(statement).all())
