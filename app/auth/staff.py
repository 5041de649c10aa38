"""Staff accounts (政策专员, 审批人, 复核人员, 审计员, 管理员) and password sign-in.

Passwords are hashed with argon2id (argon2-cffi defaults). ``login_max_failures`` wrong
passwords in a row lock the account for ``login_lock_minutes``; the failure count is committed
even though the request that carries the wrong password fails. An unknown username costs the
same argon2 verification as a known one, and a locked account gets the same 401 and message as
an unknown username (the lock is not announced: that would tell the username exists).
Disabling an account ends its sessions.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from app.auth import repository
from app.auth.models import StaffUser
from app.auth.principal import STAFF_ROLES, Principal
from app.auth.tokens import utcnow
from app.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from app.settings import get_settings

log = logging.getLogger(__name__)
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-constant-time")
WRONG_CREDENTIALS = "用户名或密码错误"


def add_user(
    session: Session, username: str, password: str, roles: list[str], display_name: str = ""
) -> StaffUser:
    username = username.strip()
    if not username or len(username) > 64 or not username.isprintable() or " " in username:
        raise ValidationFailed("username must be 1-64 printable characters without spaces")
    unknown = sorted(set(roles) - STAFF_ROLES)
    if not roles or unknown:
        raise ValidationFailed(f"unknown or missing roles {unknown}; known: {sorted(STAFF_ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if repository.staff_user(session, username) is not None:
        raise Conflict(f"staff user {username} already exists")
    user = StaffUser(
        username=username, display_name=display_name[:64], password_hash=_hasher.hash(password),
        roles=" ".join(sorted(set(roles))), created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    log.info("staff user %s added with roles %s", username, user.roles)
    return user


def list_users(session: Session) -> list[StaffUser]:
    return repository.staff_users(session)


def disable_user(session: Session, username: str) -> StaffUser:
    user = repository.staff_user(session, username)
    if user is None:
        raise NotFound(f"staff user {username} not found")
    user.enabled = False
    session.add(user)
    repository.end_sessions_of(session, "staff", username, utcnow())
    session.flush()
    log.info("staff user %s disabled", username)
    return user


def principal_of(user: StaffUser) -> Principal:
    return Principal(
        kind="staff", id=user.username, roles=user.role_set,
        display_name=user.display_name or user.username,
    )


def _record_failure(session: Session, username: str) -> None:
    settings = get_settings().auth

    def count(side: Session) -> None:
        user = repository.staff_user(side, username)
        if user is None:
            return
        user.failed_logins += 1
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = utcnow() + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
            log.warning("staff user %s locked after repeated wrong passwords", username)
        side.add(user)

    repository.in_own_transaction(session, count)


def authenticate(session: Session, username: str, password: str) -> Principal:
    """The staff principal for a correct password; 401 otherwise. A locked account answers
    exactly as an unknown username does (same status, message and argon2 cost; a correct
    password does not open it before the lock ends), so the answer never tells that a username
    exists."""
    user = repository.staff_user(session, username.strip())
    now = utcnow()
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        correct = user is not None
    except (VerificationError, InvalidHashError):
        correct = False
    if user is None or locked or not correct or not user.enabled:
        if user is not None and user.enabled and not locked:
            _record_failure(session, user.username)
        reason = "account locked" if locked else "wrong username or password"
        raise Unauthenticated(f"staff sign-in refused: {reason}", WRONG_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    session.add(user)
    session.flush()
    return principal_of(user)
