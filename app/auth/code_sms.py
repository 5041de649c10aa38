"""Sending a sign-in code by SMS at once through the configured providers (failover order),
bypassing the notifications outbox: a code must not wait for quiet hours or a batch, and it is
a secret, so it is never stored in clear or logged. Text in Chinese, signature in 【】.

:func:`send_code_soon` hands the code over on a small thread pool, so a code request takes the
same time whether or not an SMS goes out (the answer must not reveal that an identity is
registered); :func:`wait_for_pending` lets tests and shutdown wait for hand-overs in flight."""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from app.settings import get_settings
from notifications.providers import providers_from_settings
from notifications.providers.base import OutboundSms, Outcome

log = logging.getLogger(__name__)
TEMPLATE_CODE = "SMS_SIGN_IN_CODE"
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sign-in-sms")
_pending: set[Future[bool]] = set()
_pending_lock = threading.Lock()


def send_code_soon(mobile: str, code: str) -> None:
    """Queue :func:`send_code`; failures are logged (without the number or the code)."""
    future = _pool.submit(_send_logged, mobile, code)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[bool]) -> None:
    with _pending_lock:
        _pending.discard(future)


def _send_logged(mobile: str, code: str) -> bool:
    try:
        sent = send_code(mobile, code)
    except Exception as error:  # a worker thread: nobody else would see it
        log.error("sign-in code SMS failed: %s", type(error).__name__)
        return False
    if not sent:
        log.warning("sign-in code could not be handed to any SMS provider")
    return sent


def wait_for_pending(timeout: float = 30.0) -> None:
    with _pending_lock:
        pending = set(_pending)
    wait(pending, timeout=timeout)


def code_text(code: str, minutes: int) -> str:
    sign = get_settings().auth.sms_sign_name
    return f"【{sign}】您的登录验证码为{code},{minutes}分钟内有效。如非本人操作,请忽略本短信。"


def send_code(mobile: str, code: str) -> bool:
    """Hand the code to the first provider that accepts it; ``False`` when none did."""
    settings = get_settings()
    minutes = max(1, settings.auth.code_ttl_seconds // 60)
    message = OutboundSms(
        out_id=f"otp{secrets.token_hex(12)}", mobile=mobile, body=code_text(code, minutes),
        sign_name=settings.auth.sms_sign_name, template_code=TEMPLATE_CODE,
        template_params={"code": code, "minutes": str(minutes)},
    )
    providers = providers_from_settings(settings.sms)
    try:
        for kind, provider in providers.items():
            handoff = provider.send([message])[0]
            if handoff.outcome is Outcome.ACCEPTED:
                return True
            log.warning("sign-in code SMS not accepted by %s: %s", kind.value, handoff.error)
            if handoff.outcome is Outcome.UNKNOWN:
                return False  # it may arrive; a second provider could deliver a second copy
        return False
    finally:
        for provider in providers.values():
            provider.close()
