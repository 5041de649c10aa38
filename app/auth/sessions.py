"""Server-side sign-in sessions for staff, citizens and enterprises.

A session is a random token handed to the client once (as a cookie); only its SHA-256 is stored.
It ends at logout, at ``session_absolute_minutes`` after sign-in, or after
``session_idle_minutes`` without a request. Its CSRF token is derived from the session token
(``tokens.csrf_token_for``). The last-seen time is written at most once a minute.

Resolving a token is the hottest code of the portals (every request of a signed-in user): it is
one Core statement on a pooled connection, without ORM objects, and live sessions are cached in
the process for a few seconds (``app.auth.session_cache``, where the bound on how late an
ending is seen by other processes is described).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from app.auth import repository, session_cache
from app.auth.models import AuthSession
from app.auth.principal import Principal, PrincipalKind
from app.auth.tokens import csrf_token_for, new_token, token_hash, utcnow
from app.db import read_connection
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


_TABLE: Any = AuthSession.__table__  # type: ignore[attr-defined]
_LOOKUP = select(
    _TABLE.c.kind, _TABLE.c.principal_id, _TABLE.c.roles, _TABLE.c.subject_key,
    _TABLE.c.display_name, _TABLE.c.last_seen_at, _TABLE.c.expires_at, _TABLE.c.ended_at,
).where(_TABLE.c.token_hash == bindparam("digest"))
_TOUCH = update(_TABLE).where(_TABLE.c.token_hash == bindparam("digest")).values(
    last_seen_at=bindparam("now"))
_KINDS: dict[str, PrincipalKind] = {"staff": "staff", "citizen": "citizen",
                                    "enterprise": "enterprise"}


def cached_principal(token: str) -> Principal | None:
    """The principal of ``token`` when this process has it cached (no database), else ``None``
    (which means "look it up", not "anonymous")."""
    if not token or len(token) > 128:
        return None
    return session_cache.lookup(token_hash(token), utcnow())


def resolve_token(engine: Engine, token: str) -> Principal | None:
    """The principal of a live session token; ``None`` when unknown, ended or expired. The cache
    first, else one statement on an autocommit connection of its own (the last-seen update, when
    due, commits by itself)."""
    if not token or len(token) > 128:
        return None
    digest, now = token_hash(token), utcnow()
    cached = session_cache.lookup(digest, now)
    if cached is not None:
        return cached
    with read_connection(engine) as connection:
        return _resolve(connection, digest, now)


def resolve_on(connection: Connection, token: str) -> Principal | None:
    """:func:`resolve_token` on a connection the caller holds (autocommit: see ``resolve_token``
    about the last-seen update)."""
    if not token or len(token) > 128:
        return None
    digest, now = token_hash(token), utcnow()
    return session_cache.lookup(digest, now) or _resolve(connection, digest, now)


def resolve_session(session: Session, token: str) -> Principal | None:
    """:func:`resolve_token` inside an existing unit of work (the caller commits)."""
    if not token or len(token) > 128:
        return None
    digest, now = token_hash(token), utcnow()
    return session_cache.lookup(digest, now) or _resolve(session.connection(), digest, now)


def _resolve(connection: Connection, digest: str, now: datetime) -> Principal | None:
    row = connection.execute(_LOOKUP, {"digest": digest}).first()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    idle = timedelta(minutes=get_settings().auth.session_idle_minutes)
    last_seen = row.last_seen_at
    if last_seen + idle <= now:
        return None
    if now - last_seen > timedelta(minutes=1):
        connection.execute(_TOUCH, {"digest": digest, "now": now})
        last_seen = now
    principal = Principal(
        kind=_KINDS[row.kind], id=row.principal_id, roles=frozenset(row.roles.split()),
        subject_key=row.subject_key, display_name=row.display_name,
    )
    session_cache.remember(digest, principal, row.expires_at, last_seen)
    return principal


def end_session(session: Session, token: str) -> None:
    """Sign out: at once in this process (the cache), within the cache period elsewhere."""
    row = repository.auth_session(session, token_hash(token))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)
        session.flush()
    session_cache.forget_token(token_hash(token))
