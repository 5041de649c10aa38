"""HTTP routes of the notifications domain (mounted under ``/api/v1``): the delivery-receipt
callback for each provider, delivery statistics for officers, and a citizen's own messages and
opt-out.

Receipts are authenticated by the shared callback token (``MIANSHEN_SMS__CALLBACK_TOKEN``):
either ``?token=`` in the callback URL configured at the provider (Aliyun and Tencent push
without signing), ``Authorization: Bearer``, or ``X-Mianshen-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body. Statistics, the outbox list (filtered, keyset pages) and one
message with its delivery attempts and receipts need a staff session (officer, auditor or
admin; a message's text and masked mobile are access-logged); a
citizen's messages and opt-out need a citizen session and only ever reach the signed-in
citizen's own subject key. The route handlers only parse, call the service and answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_citizen, require_staff
from app.auth.principal import Principal
from app.errors import Forbidden, ValidationFailed
from app.pagination import Page, PageParams, page_of, page_params
from app.personal_data.service import record_access
from app.privacy import subject_key_of
from app.settings import get_settings
from notifications import service
from notifications.models import NotificationStatus
from notifications.providers import PROVIDERS, ProviderKind
from notifications.schemas import (
    CitizenMessage,
    DeliveryStats,
    NotificationDetail,
    NotificationSummary,
    ReceiptReport,
)

router = APIRouter(prefix="/notifications", tags=["notifications"])
OFFICERS = require_staff("officer", "auditor", "admin")


def _bearer(authorization: str | None) -> str:
    return (authorization or "").removeprefix("Bearer ").strip()


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
    provider: ProviderKind, request: Request,
    session: Session = UNIT_OF_WORK,
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


@router.get("/stats", dependencies=[Depends(OFFICERS)])
def stats(
    batch_ref: str | None = Query(default=None),
    session: Session = UNIT_OF_WORK,
) -> DeliveryStats:
    return service.delivery_stats(session, batch_ref)


@router.get("/batches", dependencies=[Depends(OFFICERS)])
def batches(session: Session = UNIT_OF_WORK) -> list[DeliveryStats]:
    return service.batch_stats(session)


@router.get("/mine")
def my_messages(
    who: Principal = Depends(require_citizen),
    session: Session = UNIT_OF_WORK,
) -> list[CitizenMessage]:
    assert who.subject_key is not None
    messages = service.citizen_messages(session, who.subject_key)
    record_access(session, who, who.subject_key, "notifications_mine",
                  sorted(CitizenMessage.model_fields))
    return messages


@router.post("/mine/opt-out")
def my_opt_out(
    who: Principal = Depends(require_citizen), session: Session = UNIT_OF_WORK
) -> dict[str, bool]:
    assert who.subject_key is not None
    service.opt_out(session, who.subject_key, "citizen")
    return {"opted_out": True}


@router.get("", response_model=Page[NotificationSummary])
def list_notifications(
    status: NotificationStatus | None = Query(None),
    policy_id: str | None = Query(None, max_length=64),
    subject: str | None = Query(None, max_length=40, description="ID number, USCC or key."),
    created_from: datetime | None = Query(None, description="Created at or after (ISO 8601)."),
    created_before: datetime | None = Query(None, description="Created before (ISO 8601)."),
    page: PageParams = Depends(page_params),
    session: Session = UNIT_OF_WORK,
    _staff: Principal = Depends(OFFICERS),
) -> Page[NotificationSummary]:
    """The outbox for officers and auditors, oldest first, filtered; no text, no mobile."""
    rows = service.staff_page(
        session, after_id=page.after_id, limit=page.limit + 1,
        status=status.value if status else None, policy_id=policy_id,
        subject_key=subject_key_of(subject) if subject else None,
        created_from=created_from, created_before=created_before,
    )
    return page_of(rows, page, lambda row: row, lambda row: row.id)


@router.get("/{notification_id}", response_model=NotificationDetail)
def show_notification(
    notification_id: int = Path(ge=1, le=2**63 - 1),
    who: Principal = Depends(OFFICERS),
    session: Session = UNIT_OF_WORK,
) -> NotificationDetail:
    """One message with its text, masked mobile, delivery attempts and provider receipts; the
    view is access-logged against the recipient."""
    detail = service.staff_detail(session, notification_id)
    record_access(session, who, detail.subject_key, "notification_detail",
                  ["body", "mobile_masked"])
    return detail
