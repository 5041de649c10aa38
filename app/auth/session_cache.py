"""In-process cache of resolved sign-in sessions, keyed by the SHA-256 of the session token.

A live session read from the database is kept for ``MIANSHEN_AUTH__SESSION_CACHE_SECONDS``
(default 3 s; 0 turns the cache off), so the several requests of one page load cost one look-up.
A cached entry still carries the session's absolute and idle expiry and is refused once either
has passed. Unknown, ended and expired sessions are never cached.

Ending a session in this process (sign-out, a disabled staff user) takes effect here at once:
the entry is dropped and a tombstone (per token hash, or per principal) keeps the session out of
the cache for one cache period, so a look-up racing with the sign-out's commit cannot put it
back; until then every look-up of it reads the database. In other worker processes an ended
session stays usable for at most one cache period (the documented bound).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.auth.principal import Principal
from app.settings import get_settings

MAX_ENTRIES = 100_000
# A tombstone outlives the cache period by this margin: it is set before the ending commits.
TOMBSTONE_MARGIN_SECONDS = 10.0


@dataclass(frozen=True)
class Entry:
    principal: Principal
    expires_at: datetime  # absolute end of the session
    idle_until: datetime  # last seen + idle timeout, as read
    fresh_until: float  # monotonic: re-read the database after this


_entries: dict[str, Entry] = {}
_dead_tokens: dict[str, float] = {}  # token hash -> monotonic end of its tombstone
_dead_principals: dict[tuple[str, str], float] = {}  # (kind, principal id) -> same
_lock = threading.Lock()


def ttl_seconds() -> float:
    return max(0.0, get_settings().auth.session_cache_seconds)


def lookup(digest: str, now: datetime) -> Principal | None:
    """The cached principal of a live session, else ``None`` (not cached, stale or expired:
    the caller reads the database)."""
    entry = _entries.get(digest)
    if entry is None:
        return None
    if entry.fresh_until <= time.monotonic() or entry.expires_at <= now \
            or entry.idle_until <= now:
        _entries.pop(digest, None)
        return None
    return entry.principal


def remember(digest: str, principal: Principal, expires_at: datetime, last_seen_at: datetime
             ) -> None:
    ttl = ttl_seconds()
    if ttl <= 0:
        return
    moment = time.monotonic()
    idle = timedelta(minutes=get_settings().auth.session_idle_minutes)
    with _lock:
        if _dead_tokens.get(digest, 0.0) > moment or \
                _dead_principals.get((principal.kind, principal.id), 0.0) > moment:
            return
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()  # a crude bound: the next look-ups read the database
        _entries[digest] = Entry(principal, expires_at, last_seen_at + idle, moment + ttl)


def forget_token(digest: str) -> None:
    """The session of this token hash ended: drop it now, keep it out for one cache period."""
    with _lock:
        _entries.pop(digest, None)
        _dead_tokens[digest] = time.monotonic() + ttl_seconds() + TOMBSTONE_MARGIN_SECONDS
        _prune(_dead_tokens)


def forget_principal(kind: str, principal_id: str) -> None:
    """Every session of this principal ended (for example a disabled staff user)."""
    with _lock:
        for digest in [d for d, e in _entries.items()
                       if e.principal.kind == kind and e.principal.id == principal_id]:
            _entries.pop(digest, None)
        _dead_principals[(kind, principal_id)] = \
            time.monotonic() + ttl_seconds() + TOMBSTONE_MARGIN_SECONDS
        _prune(_dead_principals)


def clear() -> None:
    with _lock:
        _entries.clear()
        _dead_tokens.clear()
        _dead_principals.clear()


def _prune(tombstones: dict[str, float] | dict[tuple[str, str], float]) -> None:
    if len(tombstones) > 1_000:
        moment = time.monotonic()
        for key in [k for k, until in tombstones.items() if until <= moment]:
            del tombstones[key]  # type: ignore[arg-type]
