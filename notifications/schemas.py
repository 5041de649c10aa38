"""Shapes the notifications domain speaks in: what a caller asks to send, and the reports and
views it returns (CLI ``--json``, API responses). No mobile number ever appears in them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from notifications.models import EventKind

STATUS_LABELS_ZH = {
    "created": "待发送",
    "retrying": "等待重发",
    "sending": "发送中",
    "sent": "已发送",
    "delivered": "已送达",
    "temporary_failure": "暂时无法送达",
    "permanent_failure": "无法送达",
    "technical_failure": "发送失败",
    "cancelled": "已取消",
    "fallback": "改为书面或上门告知",
}


class NotificationRequest(BaseModel):
    """One message a grant, payment or event causes. ``(subject_key, event, grant_ref, period)``
    is its identity: asking twice sends once."""

    subject_key: str = Field(max_length=32)
    event: EventKind
    grant_ref: str = Field(max_length=64)
    period: str = Field(default="", max_length=16)
    agency: str = Field(max_length=12)  # the signature, e.g. 禅城区民政局
    variables: dict[str, str | int | date] = Field(default_factory=dict)
    template_set: str | None = None  # the policy's ``notification_template``
    urgent: bool = False  # urgent messages ignore quiet hours
    batch_ref: str | None = Field(default=None, max_length=64)


class EnqueueReport(BaseModel):
    created: int = 0
    existing: int = 0  # already in the outbox: nothing new was written
    ids: list[int] = Field(default_factory=list)


class DispatchReport(BaseModel):
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    permanent_failure: int = 0
    technical_failure: int = 0
    unknown: int = 0  # hand-off outcome unknown: left in ``sending`` for reconciliation
    deferred: int = 0  # rate limit or daily cap: back in the queue with a later time
    fallback: int = 0
    cancelled: int = 0
    providers: dict[str, int] = Field(default_factory=dict)

    def add(self, other: DispatchReport) -> None:
        for name in DispatchReport.model_fields:
            if name == "providers":
                for provider, count in other.providers.items():
                    self.providers[provider] = self.providers.get(provider, 0) + count
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))


class ReconcileReport(BaseModel):
    examined: int = 0
    accepted: int = 0  # the provider had it: marked sent, not resent
    resent_later: int = 0  # the provider certainly had not: back in the retry queue
    unknown: int = 0  # the provider cannot tell: technical failure, never resent


class ReceiptReport(BaseModel):
    applied: int = 0
    duplicates: int = 0
    unknown: int = 0


class DeliveryStats(BaseModel):
    batch_ref: str | None = None
    total: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    segments: int = 0
    delivered_share: float = 0.0  # delivered / (everything that was handed to a provider)


class NotificationView(BaseModel):
    id: int
    subject_key: str
    event_kind: str
    template_code: str
    status: str
    attempts: int
    body: str
    segments: int
    batch_ref: str | None
    provider: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


class CitizenMessage(BaseModel):
    body: str
    status: str
    status_zh: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


def view(row: Any) -> NotificationView:
    return NotificationView.model_validate(row._mapping, from_attributes=False)


class NotificationSummary(BaseModel):
    """One outbox message for staff lists: no text (it greets the person), no mobile."""

    id: int
    subject_key: str
    policy_id: str | None
    grant_ref: str
    event_kind: str
    template_code: str
    status: str
    status_zh: str
    attempts: int
    segments: int
    batch_ref: str | None
    provider: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, row: Any) -> NotificationSummary:
        values = dict(row._mapping)
        values["status_zh"] = STATUS_LABELS_ZH.get(row.status, row.status)
        return cls.model_validate(values)


class DeliveryStep(BaseModel):
    """A status change: ``attempt`` (hand-off to a provider, retry, failure), ``receipt`` (a
    provider's delivery report) or ``outbox`` (created, cancelled, fallback, reconciliation)."""

    at: datetime
    kind: str
    from_status: str | None
    to_status: str
    detail: str | None


class NotificationDetail(NotificationSummary):
    body: str
    mobile_masked: str | None  # the registry mobile it goes to, e.g. 138****5678
    provider_message_id: str | None
    history: list[DeliveryStep]
