"""Queries of the auth tables (and the registry rows sign-in reads). Writes that must survive a
failed request (a wrong password or code counts even though the request answers 401) go through
:func:`in_own_transaction`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.auth import session_cache
from app.auth.models import ApiKey, AuthSession, OneTimeCode, SignInLock, StaffUser
from app.datahub.models import Enterprise, Person

T = TypeVar("T")


def in_own_transaction(session: Session, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a separate, immediately committed transaction on the same database."""
    with Session(session.get_bind(), expire_on_commit=False) as side:
        result = work(side)
        side.commit()
        return result


def api_key(session: Session, key_id: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()


def api_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def touch_api_key(session: Session, key_id: str, now: datetime) -> None:
    """Record use at most once a minute per key (not a write per request)."""
    session.execute(
        update(ApiKey)
        .where(col(ApiKey.key_id) == key_id)
        .where(
            (col(ApiKey.last_used_at).is_(None))
            | (col(ApiKey.last_used_at) < now - timedelta(minutes=1))
        )
        .values(last_used_at=now)
    )


def staff_user(session: Session, username: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.username == username)).first()


def staff_users(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(col(StaffUser.username))))


def auth_session(session: Session, token_hash: str) -> AuthSession | None:
    return session.exec(select(AuthSession).where(AuthSession.token_hash == token_hash)).first()


def end_sessions_of(session: Session, kind: str, principal_id: str, now: datetime) -> None:
    session_cache.forget_principal(kind, principal_id)  # at once in this process
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.kind) == kind, col(AuthSession.principal_id) == principal_id)
        .where(col(AuthSession.ended_at).is_(None))
        .values(ended_at=now)
    )


def live_code(session: Session, identity: str, now: datetime) -> OneTimeCode | None:
    """The newest unused, unexpired code of ``identity``."""
    return session.exec(
        select(OneTimeCode)
        .where(OneTimeCode.identity == identity, col(OneTimeCode.used_at).is_(None))
        .where(OneTimeCode.expires_at > now)
        .order_by(col(OneTimeCode.id).desc())
    ).first()


def use_code(session: Session, code_id: int, now: datetime) -> bool:
    """Mark a code used; ``False`` when another request used it first (single use)."""
    result = session.execute(
        update(OneTimeCode)
        .where(col(OneTimeCode.id) == code_id, col(OneTimeCode.used_at).is_(None))
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def count_code_attempt(session: Session, code_id: int) -> None:
    session.execute(
        update(OneTimeCode)
        .where(col(OneTimeCode.id) == code_id)
        .values(attempts=col(OneTimeCode.attempts) + 1)
    )


def sign_in_lock(session: Session, identity: str) -> SignInLock | None:
    return session.get(SignInLock, identity)


def person(session: Session, subject_key: str) -> Person | None:
    return session.exec(select(Person).where(Person.subject_key == subject_key)).first()


def enterprise(session: Session, uscc: str) -> Enterprise | None:
    return session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
