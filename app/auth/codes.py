"""Citizen and enterprise sign-in with a one-time SMS code.

Citizen: ID number → a 6-digit code to the registry mobile of that person → ID number + code.
Enterprise: USCC + legal representative's name → a code to the legal representative's registry
mobile (the enterprise row's ``legal_rep_key`` is the representative's person subject key; the
name is compared with the name registered for the enterprise) → USCC + code.

Codes are stored as a keyed hash, expire after ``code_ttl_seconds``, are single use and allow
``code_max_attempts`` guesses; ``identity_max_failures`` wrong codes lock the identity for
``identity_lock_minutes``; requests and sign-ins are throttled per client IP. Answers never say
whether an ID number or USCC is registered: a code row is created (and the resend interval and
lockout apply) whether or not a code could be sent, and the SMS is handed over off the
request's thread so that the response time does not tell either.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta

from sqlmodel import Session
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from app.auth import code_sms, repository
from app.auth.models import OneTimeCode, SignInLock
from app.auth.principal import Principal
from app.auth.throttle import throttle
from app.auth.tokens import CODE, keyed_hash, new_code, utcnow
from app.errors import RateLimited, Unauthenticated, ValidationFailed
from app.privacy import keyring, mask_name
from app.settings import get_settings

log = logging.getLogger(__name__)
CODE_SENT = "如该身份已登记手机号码,验证码已发送,5分钟内有效"
WRONG_CODE = "验证码错误或已失效"


def citizen_identity(id_number: str) -> tuple[str, str]:
    """(identity, subject key) of a resident ID number; 422 when it is not a valid one."""
    number = ric.compact(id_number).upper()
    if not _is_resident_id(number):
        raise ValidationFailed("invalid resident ID number", "公民身份号码格式不正确")
    subject_key = keyring().subject_key(number)
    return f"citizen:{subject_key}", subject_key


def _is_resident_id(number: str) -> bool:
    """GB 11643 checksum and birth date (not ``ric.validate``: its region table lacks districts
    created since, such as 440604 禅城区)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return ric.calc_check_digit(number) == number[-1]


def enterprise_identity(code: str) -> tuple[str, str]:
    try:
        number = uscc.validate(code.strip().upper())
    except ValidationError:
        raise ValidationFailed("invalid USCC", "统一社会信用代码格式不正确") from None
    return f"enterprise:{number}", number


def _throttle_ip(kind: str, client_ip: str, limit: int) -> None:
    wait = throttle().hit(f"{kind}:{client_ip}", limit, 60)
    if wait:
        raise RateLimited(f"too many {kind} requests from one address", "操作过于频繁,请稍后再试",
                          wait)


def _refuse_if_locked(session: Session, identity: str, now: datetime) -> None:
    lock = repository.sign_in_lock(session, identity)
    if lock is not None and lock.locked_until is not None and lock.locked_until > now:
        seconds = int((lock.locked_until - now).total_seconds()) + 1
        raise RateLimited("identity locked after repeated wrong codes",
                          f"验证码错误次数过多,请{seconds // 60 + 1}分钟后再试", seconds)


def _code_hash(identity: str, code: str) -> str:
    return keyed_hash(f"{identity}:{code}", CODE)


def _issue(session: Session, identity: str, client_ip: str, mobile: str | None) -> None:
    settings = get_settings().auth
    _throttle_ip("code-request", client_ip, settings.ip_code_requests_per_minute)
    now = utcnow()
    _refuse_if_locked(session, identity, now)
    latest = repository.live_code(session, identity, now)
    resend_at = now
    if latest is not None:
        resend_at = latest.created_at + timedelta(seconds=settings.code_resend_seconds)
    if resend_at > now:
        wait = int((resend_at - now).total_seconds()) + 1
        raise RateLimited("code requested again too soon", f"请{wait}秒后再获取验证码", wait)
    code = new_code()
    row = OneTimeCode(
        identity=identity, code_hash=_code_hash(identity, code), created_at=now,
        expires_at=now + timedelta(seconds=settings.code_ttl_seconds),
    )
    # Committed before the SMS leaves, whatever becomes of the request's own transaction.
    repository.in_own_transaction(session, lambda side: side.add(row))
    if mobile:
        code_sms.send_code_soon(mobile, code)


def _person_mobile(session: Session, subject_key: str) -> str | None:
    person = repository.person(session, subject_key)
    if person is None or person.pii is None or person.status != "active":
        return None
    mobile = keyring().decrypt_json(person.pii).get("mobile")
    return mobile if isinstance(mobile, str) and mobile else None


def request_citizen_code(session: Session, id_number: str, client_ip: str) -> str:
    """Send a code to the person's registry mobile; the answer is the same either way."""
    identity, subject_key = citizen_identity(id_number)
    _issue(session, identity, client_ip, _person_mobile(session, subject_key))
    return CODE_SENT


def _enterprise_mobile(session: Session, number: str, legal_rep_name: str) -> str | None:
    enterprise = repository.enterprise(session, number)
    if enterprise is None or enterprise.pii is None or enterprise.status != "active":
        return None
    registered = str(keyring().decrypt_json(enterprise.pii).get("legal_rep_name", ""))
    if not registered or not hmac.compare_digest(
        registered.strip().encode(), legal_rep_name.strip().encode()
    ):
        return None
    return _person_mobile(session, enterprise.legal_rep_key)


def request_enterprise_code(
    session: Session, uscc_code: str, legal_rep_name: str, client_ip: str
) -> str:
    identity, number = enterprise_identity(uscc_code)
    _issue(session, identity, client_ip, _enterprise_mobile(session, number, legal_rep_name))
    return CODE_SENT


def _record_failure(session: Session, identity: str, code_id: int | None) -> None:
    settings = get_settings().auth

    def count(side: Session) -> None:
        now = utcnow()
        if code_id is not None:
            repository.count_code_attempt(side, code_id)
        lock = repository.sign_in_lock(side, identity) or SignInLock(
            identity=identity, updated_at=now
        )
        lock.failures += 1
        lock.updated_at = now
        if lock.failures >= settings.identity_max_failures:
            lock.failures = 0
            lock.locked_until = now + timedelta(minutes=settings.identity_lock_minutes)
            log.warning("a sign-in identity was locked after repeated wrong codes")
        side.add(lock)

    repository.in_own_transaction(session, count)


def _check_code(session: Session, identity: str, code: str, client_ip: str) -> None:
    settings = get_settings().auth
    _throttle_ip("sign-in", client_ip, settings.ip_sign_ins_per_minute)
    now = utcnow()
    _refuse_if_locked(session, identity, now)
    live = repository.live_code(session, identity, now)
    usable = live is not None and live.attempts < settings.code_max_attempts
    right = usable and live is not None and hmac.compare_digest(
        _code_hash(identity, code.strip()), live.code_hash
    )
    if not right or live is None or live.id is None or not repository.use_code(session, live.id,
                                                                             now):
        _record_failure(session, identity, live.id if usable and live else None)
        raise Unauthenticated("wrong, used or expired sign-in code", WRONG_CODE)
    lock = repository.sign_in_lock(session, identity)
    if lock is not None:
        lock.failures, lock.locked_until, lock.updated_at = 0, None, now
        session.add(lock)
    session.flush()


def sign_in_citizen(session: Session, id_number: str, code: str, client_ip: str) -> Principal:
    identity, subject_key = citizen_identity(id_number)
    _check_code(session, identity, code, client_ip)
    person = repository.person(session, subject_key)
    if person is None:  # a code is only ever sent to a registered person
        raise Unauthenticated("sign-in code for an unregistered identity", WRONG_CODE)
    name = str(keyring().decrypt_json(person.pii).get("name", "")) if person.pii else ""
    return Principal(kind="citizen", id=f"citizen:{subject_key}", subject_key=subject_key,
                     display_name=mask_name(name))


def sign_in_enterprise(session: Session, uscc_code: str, code: str, client_ip: str) -> Principal:
    identity, number = enterprise_identity(uscc_code)
    _check_code(session, identity, code, client_ip)
    enterprise = repository.enterprise(session, number)
    if enterprise is None:
        raise Unauthenticated("sign-in code for an unregistered enterprise", WRONG_CODE)
    return Principal(kind="enterprise", id=f"enterprise:{number}", subject_key=number,
                     display_name=enterprise.name)
