"""Sending a sign-in code by SMS at once through the configured providers (failover order),
bypassing the notifications outbox: a code must not wait for quiet hours or a batch, and it is
a secret, so it is never stored in clear or logged. Text in Chinese, signature in 【】."""

from __future__ import annotations

import logging
import secrets

from app.settings import get_settings
from notifications.providers import providers_from_settings
from notifications.providers.base import OutboundSms, Outcome

log = logging.getLogger(__name__)
TEMPLATE_CODE = "SMS_SIGN_IN_CODE"


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
