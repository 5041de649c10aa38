"""HTTP routes of the notifications domain (mounted under ``/api/v1``): the delivery-receipt
callback for each provider, delivery statistics for officers, and a citizen's own messages and
opt-out.

Receipts are authenticated by the shared callback token (``MIANSHEN_SMS__CALLBACK_TOKEN``):
either ``?token=`` in the callback URL configured at the provider (Aliyun and Tencent push
without signing), ``Authorization: Bearer``, or ``X-Mianshen-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body. Officer and citizen routes take a bearer token minted by
:func:`access_token` (an HMAC of the scope under the blind-index key) until the application
has its own sign-in; the route handlers only parse, call the service and answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlmodel import Session

from app.auth.deps import db_session
from app.auth.principal import Principal
from app.errors import Forbidden, ValidationFailed
from app.personal_data.service import record_access
from app.settings import get_settings
from notifications import service
from notifications.providers import PROVIDERS, ProviderKind
from notifications.schemas import CitizenMessage, DeliveryStats, ReceiptReport

router = APIRouter(prefix="/notifications", tags=["notifications"])



def access_token(scope: str) -> str:
    """Bearer token for ``officer`` or ``citizen:<subject_key>``."""
    key = get_settings().blind_index_key.get_secret_value().encode()
    return hmac.new(key, f"notifications:{scope}".encode(), hashlib.sha256).hexdigest()


def _bearer(authorization: str | None) -> str:
    return (authorization or "").removeprefix("Bearer ").strip()


def require_officer(authorization: str | None = Header(default=None)) -> None:
    if not hmac.compare_digest(_bearer(authorization), access_token("officer")):
        raise Forbidden("officer token required", "需要政策专员身份")


def current_subject(
    authorization: str | None = Header(default=None),
    x_subject_key: str = Header(default="", max_length=32),
) -> str:
    if not x_subject_key or not hmac.compare_digest(
        _bearer(authorization), access_token(f"citizen:{x_subject_key}")
    ):
        raise Forbidden("citizen token required", "请先登录")
    return x_subject_key


def _receipt_authorised(request: Request, raw: bytes) -> bool:
    secret = get_settings().sms.callback_token.get_secret_value()
    presented = request.query_params.get("token") or _bearer(request.headers.get("authorization"))
    if presented and hmac.compare_digest(presented, secret):
        return True
    signature = request.headers.get("x-mianshen-signature", "").removeprefix("sha256=")
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return bool(signature) and hmac.compare_digest(signature, expected)


@router.post("/receipts/{provider}")
async def receive_receipts(
    provider: ProviderKind, request: Request, session: Session = Depends(db_session)
) -> dict[str, Any]:
    """Delivery reports pushed by a provider; applying one twice changes nothing."""
    raw = await request.body()
    if not _receipt_authorised(request, raw):
        raise Forbidden("receipt callback not authenticated")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise ValidationFailed("receipt body is not JSON") from None
    report = service.apply_receipts(session, PROVIDERS[provider].parse_receipts(payload))
    return _acknowledgement(provider, report)


def _acknowledgement(provider: ProviderKind, report: ReceiptReport) -> dict[str, Any]:
    """Each provider's "got it" answer; unmatched reports ask the provider to push again later
    (a report can overtake the worker that records the hand-off)."""
    complete = report.unknown == 0
    if provider is ProviderKind.ALIYUN:
        return {"code": 0 if complete else 1, "msg": "接收成功" if complete else "部分回执暂未匹配"}
    if provider is ProviderKind.TENCENT:
        return {"result": 0 if complete else 1, "errmsg": "OK" if complete else "retry later"}
    return report.model_dump()


@router.get("/stats", dependencies=[Depends(require_officer)])
def stats(
    batch_ref: str | None = Query(default=None), session: Session = Depends(db_session)
) -> DeliveryStats:
    return service.delivery_stats(session, batch_ref)


@router.get("/batches", dependencies=[Depends(require_officer)])
def batches(session: Session = Depends(db_session)) -> list[DeliveryStats]:
    return service.batch_stats(session)


@router.get("/mine")
def my_messages(
    subject_key: str = Depends(current_subject), session: Session = Depends(db_session)
) -> list[CitizenMessage]:
    messages = service.citizen_messages(session, subject_key)
    citizen = Principal(kind="citizen", id=subject_key, subject_key=subject_key)
    record_access(session, citizen, subject_key, "notifications_mine",
                  sorted(CitizenMessage.model_fields))
    return messages


@router.post("/mine/opt-out")
def my_opt_out(
    subject_key: str = Depends(current_subject), session: Session = Depends(db_session)
) -> dict[str, bool]:
    return {"opted_out": service.opt_out(session, subject_key, "citizen") or True}
