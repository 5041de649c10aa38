"""Department API keys (部门系统): creation (the secret is shown once), listing, revocation, and
the per-request resolution of ``Authorization: Bearer msk_<key id>_<secret>`` into a
``department`` principal with the key's scopes as roles.

Only a keyed BLAKE2b hash of the secret is stored; the secret is 32 random bytes, so a fast hash
is as safe as a slow one and costs microseconds. Resolved keys are cached in this process for
``MIANSHEN_AUTH__API_KEY_CACHE_SECONDS``: a revocation takes effect everywhere within that time.
Each key's request rate is limited per second (Redis when configured, claimed in leases of
several requests, see ``throttle``; else in-process). ``authenticate_cached`` is the
verification hot path's resolution without a database session. Wrong,
unknown, malformed or revoked keys count against the client address: past
``ip_api_key_failures_per_minute`` failures in a minute the address is refused with 429 until
the minute ends, whatever key it presents (so guessing cannot go on). The count is shared
through Redis; the refusal itself is remembered in each process, which learns of it at its own
next failure from that address.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass

import redis
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auth import repository
from app.auth.models import ApiKey
from app.auth.principal import Principal
from app.auth.throttle import throttle
from app.auth.tokens import API_KEY, keyed_hash, new_token, utcnow
from app.db import UNAVAILABLE_MESSAGE, session_scope
from app.errors import (
    Conflict,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from app.settings import get_settings

log = logging.getLogger(__name__)

PREFIX = "msk"
MAX_CACHED_KEYS = 10_000
SCOPES = frozenset(
    {"verify:person", "verify:enterprise", "verify:status", "data:push", "events:push"}
)


@dataclass(frozen=True)
class _Resolved:
    secret_hash: str
    principal: Principal | None  # None: revoked or disabled
    rate_per_second: int
    expires: float


_cache: dict[str, _Resolved] = {}
_cache_lock = threading.Lock()
_blocked: dict[str, float] = {}  # client address -> monotonic time its refusal ends
TOO_MANY_FAILURES = "API密钥验证失败次数过多,请稍后再试"


def forget_cached_keys() -> None:
    with _cache_lock:
        _cache.clear()
        _blocked.clear()


def _refuse_if_blocked(client_ip: str) -> None:
    until = _blocked.get(client_ip)
    if until is None:
        return
    left = until - time.monotonic()
    if left <= 0:
        with _cache_lock:
            _blocked.pop(client_ip, None)
        return
    raise RateLimited("too many failed API-key attempts from one address", TOO_MANY_FAILURES,
                      int(left) + 1)


def _count_failure(client_ip: str) -> None:
    """One more failure of ``client_ip``; past the limit the address is refused (429)."""
    limit = get_settings().auth.ip_api_key_failures_per_minute
    wait = throttle().hit(f"apikey-fail:{client_ip}", limit, 60)
    if not wait:
        return
    with _cache_lock:
        if len(_blocked) >= MAX_CACHED_KEYS:
            _blocked.clear()
        _blocked[client_ip] = time.monotonic() + wait
    log.warning("API-key failures from one address over %d a minute: refused for %d s",
                limit, wait)
    raise RateLimited("too many failed API-key attempts from one address", TOO_MANY_FAILURES,
                      wait)


def create_key(
    session: Session,
    department: str,
    scopes: list[str],
    rate_per_second: int | None = None,
    description: str = "",
) -> tuple[ApiKey, str]:
    """A new key and its full secret string (shown once, never stored or logged)."""
    unknown = sorted(set(scopes) - SCOPES)
    if not scopes or unknown:
        raise ValidationFailed(f"unknown or missing scopes {unknown}; known: {sorted(SCOPES)}")
    department = department.strip()
    if not department or len(department) > 40:
        raise ValidationFailed("department code must be 1-40 characters")
    rate = rate_per_second or get_settings().auth.api_key_default_rate
    if rate < 1:
        raise ValidationFailed("rate must be at least 1 request per second")
    key_id, secret = secrets.token_hex(6), new_token(32)
    row = ApiKey(
        key_id=key_id,
        secret_hash=keyed_hash(secret, API_KEY),
        department=department,
        scopes=" ".join(sorted(set(scopes))),
        rate_per_second=rate,
        description=description[:200],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    log.info("API key %s created for department %s", key_id, department)
    return row, f"{PREFIX}_{key_id}_{secret}"


def list_keys(session: Session) -> list[ApiKey]:
    return repository.api_keys(session)


def revoke_key(session: Session, key_id: str) -> ApiKey:
    row = repository.api_key(session, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    if row.revoked_at is not None:
        raise Conflict(f"API key {key_id} is already revoked")
    row.enabled, row.revoked_at = False, utcnow()
    session.add(row)
    session.flush()
    with _cache_lock:
        _cache.pop(key_id, None)
    log.info("API key %s revoked", key_id)
    return row


def _split(presented: str) -> tuple[str, str]:
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or len(key_id) != 12 or not secret:
        raise Unauthenticated("malformed API key", "API密钥无效")
    return key_id, secret


def _load(session: Session, key_id: str) -> _Resolved:
    """The key as the database has it now; an unknown id resolves to a key nobody can match
    (cached like the others, so random ids cannot make every request a query)."""
    row = repository.api_key(session, key_id)
    ttl = get_settings().auth.api_key_cache_seconds
    if row is None:
        return _Resolved("", None, 0, time.monotonic() + ttl)
    principal = None
    if row.enabled and row.revoked_at is None:
        principal = Principal(
            kind="department", id=f"apikey:{row.key_id}", roles=row.scope_set,
            department=row.department, display_name=row.department,
        )
        repository.touch_api_key(session, key_id, utcnow())
    return _Resolved(row.secret_hash, principal, row.rate_per_second, time.monotonic() + ttl)


def authenticate(session: Session, presented: str, client_ip: str | None = None) -> Principal:
    """The department principal of a presented key; 401 if unknown, wrong or revoked, 429 when
    the key is over its rate or ``client_ip`` has failed too often."""
    if client_ip is None:
        return _authenticate(session, presented)
    _refuse_if_blocked(client_ip)
    try:
        return _authenticate(session, presented)
    except Unauthenticated:
        _count_failure(client_ip)
        raise


def _authenticate(session: Session, presented: str) -> Principal:
    key_id, secret = _split(presented)
    resolved = _cache.get(key_id)
    if resolved is None or resolved.expires < time.monotonic():
        resolved = _load(session, key_id)
        with _cache_lock:
            if len(_cache) >= MAX_CACHED_KEYS:
                _cache.clear()
            _cache[key_id] = resolved
    if not resolved.secret_hash or not hmac.compare_digest(
        keyed_hash(secret, API_KEY), resolved.secret_hash
    ):
        raise Unauthenticated("wrong API key secret", "API密钥无效")
    if resolved.principal is None:
        raise Unauthenticated("API key revoked or disabled", "API密钥已停用")
    _admit(key_id, resolved.rate_per_second)
    return resolved.principal


def authenticate_cached(presented: str, scope: str, engine: Engine) -> Principal | None:
    """``authenticate`` for the hot path, from this process's cache alone: the principal of a
    fresh cached key with the right secret and ``scope``, counted against its rate (429 raised
    as there). ``None`` when the cache cannot say yes on its own (not cached or expired, wrong
    secret, revoked, scope missing): the caller then goes through ``authenticate`` for the
    exact answer, so no request is counted twice.

    A key in use is re-read from ``engine`` by a background thread in the last
    ``REFRESH_AHEAD`` of its cache time, so a busy key does not expire under load (every request
    in flight would take the slow path at once); an entry is never used after it expired, so
    a revocation still takes effect within the cache time."""
    key_id, _, secret = presented.removeprefix(f"{PREFIX}_").partition("_")
    resolved = _cache.get(key_id)
    now = time.monotonic()
    if (resolved is None or resolved.principal is None or resolved.expires < now
            or not presented.startswith(f"{PREFIX}_") or scope not in resolved.principal.roles
            or not hmac.compare_digest(keyed_hash(secret, API_KEY), resolved.secret_hash)):
        return None
    if resolved.expires - now < REFRESH_AHEAD * get_settings().auth.api_key_cache_seconds:
        _refresh_soon(engine, key_id)
    _admit(key_id, resolved.rate_per_second)
    return resolved.principal


REFRESH_AHEAD = 0.4  # of the cache time
_refreshing: set[str] = set()


def _refresh_soon(engine: Engine, key_id: str) -> None:
    with _cache_lock:
        if key_id in _refreshing:
            return
        _refreshing.add(key_id)
    threading.Thread(target=_refresh, args=(engine, key_id), name="api-key-refresh",
                     daemon=True).start()


def _refresh(engine: Engine, key_id: str) -> None:
    try:
        with session_scope(engine) as session:
            resolved = _load(session, key_id)
        with _cache_lock:
            _cache[key_id] = resolved
    except Exception as error:  # the entry expires as usual; the next request reloads it
        log.warning("API key %s: refresh failed (%s)", key_id, type(error).__name__)
    finally:
        with _cache_lock:
            _refreshing.discard(key_id)


def _admit(key_id: str, rate_per_second: int) -> None:
    try:
        wait = throttle().take(f"key:{key_id}", rate_per_second, 1)
    except redis.RedisError as error:
        raise ServiceUnavailable(f"rate limit store unavailable: {type(error).__name__}",
                                 UNAVAILABLE_MESSAGE) from error
    if wait:
        raise RateLimited(
            f"API key {key_id} over {rate_per_second} requests/s",
            f"请求过于频繁(每秒最多{rate_per_second}次),请稍后重试",
            wait,
        )
