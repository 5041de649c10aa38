"""Server-side sign-in sessions for staff, citizens and enterprises.

A session is a random token handed to the client once (as a cookie); only its SHA-256 is stored.
It ends at logout, at ``session_absolute_minutes`` after sign-in, or after
``session_idle_minutes`` without a request. Its CSRF token is derived from the session token
(``tokens.csrf_token_for``). The last-seen time is written at most once a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from app.auth import repository
from app.auth.models import AuthSession
from app.auth.principal import Principal, PrincipalKind
from app.auth.tokens import csrf_token_for, new_token, token_hash, utcnow
from app.settings import get_settings


@dataclass(frozen=True)
class SignedIn:
    """What the edge hands the client: the session token (cookie) and its CSRF token."""

    token: str
    csrf_token: str
    principal: Principal
    expires_at: datetime


def start_session(session: Session, principal: Principal) -> SignedIn:
    settings = get_settings().auth
    now = utcnow()
    token = new_token()
    expires_at = now + timedelta(minutes=settings.session_absolute_minutes)
    session.add(
        AuthSession(
            token_hash=token_hash(token), kind=principal.kind, principal_id=principal.id,
            roles=" ".join(sorted(principal.roles)), subject_key=principal.subject_key,
            display_name=principal.display_name[:64], created_at=now, last_seen_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return SignedIn(token, csrf_token_for(token), principal, expires_at)


def _principal_of(row: AuthSession) -> Principal:
    kinds: dict[str, PrincipalKind] = {"staff": "staff", "citizen": "citizen",
                                       "enterprise": "enterprise"}
    return Principal(
        kind=kinds[row.kind], id=row.principal_id, roles=frozenset(row.roles.split()),
        subject_key=row.subject_key, display_name=row.display_name,
    )


def resolve_session(session: Session, token: str) -> Principal | None:
    """The principal of a live session token; ``None`` when unknown, ended or expired."""
    if not token or len(token) > 128:
        return None
    row = repository.auth_session(session, token_hash(token))
    now = utcnow()
    idle = timedelta(minutes=get_settings().auth.session_idle_minutes)
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + idle <= now:
        return None
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        session.add(row)
        session.flush()
    return _principal_of(row)


def end_session(session: Session, token: str) -> None:
    row = repository.auth_session(session, token_hash(token))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)
        session.flush()
