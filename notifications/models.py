"""Tables of the SMS outbox: notifications, their status transitions, fallback tasks and the
opt-out list. Queries live in ``repository``; the state machine in ``service`` and ``dispatch``.

A notification row never holds a mobile number: the recipient is a pseudonymous ``subject_key``
and the number is decrypted from ``person.pii`` only at send time. The body stored here is the
rendered, masked text (surname-only salutation, no ID or mobile numbers).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class NotificationStatus(StrEnum):
    CREATED = "created"  # waiting for its first hand-off (maybe deferred: quiet hours, limits)
    RETRYING = "retrying"  # a previous hand-off is known not to have been accepted
    SENDING = "sending"  # claimed; may have been handed to a provider (never resent blindly)
    SENT = "sent"  # accepted by a provider
    DELIVERED = "delivered"  # the delivery receipt says the handset got it
    TEMPORARY_FAILURE = "temporary_failure"  # receipt: phone off / out of coverage
    PERMANENT_FAILURE = "permanent_failure"  # number does not exist, or rejected for good
    TECHNICAL_FAILURE = "technical_failure"  # attempts exhausted, or hand-off outcome unknown
    CANCELLED = "cancelled"  # cancelled before sending (death, opt-out, deceased recipient)
    FALLBACK = "fallback"  # no usable mobile: a letter / community-worker task instead


PENDING_STATUSES = (NotificationStatus.CREATED, NotificationStatus.RETRYING)
FINAL_STATUSES = (
    NotificationStatus.DELIVERED,
    NotificationStatus.TEMPORARY_FAILURE,
    NotificationStatus.PERMANENT_FAILURE,
    NotificationStatus.TECHNICAL_FAILURE,
    NotificationStatus.CANCELLED,
    NotificationStatus.FALLBACK,
)


class EventKind(StrEnum):
    GRANTED = "granted"
    PAYMENT_MADE = "payment_made"
    TIER_CHANGED = "tier_changed"
    SUSPENDED = "suspended"
    ENDED = "ended"
    CONFIRMATION_NEEDED = "confirmation_needed"
    PUBLIC_NOTICE_START = "public_notice_start"
    OBJECTION_RESULT = "objection_result"
    CERTIFICATE_ISSUED = "certificate_issued"
    REMINDER = "reminder"


# Messages a citizen may opt out of; the others tell them about their rights and always go.
NON_ESSENTIAL_EVENTS = frozenset(
    {EventKind.PAYMENT_MADE, EventKind.CERTIFICATE_ISSUED, EventKind.REMINDER}
)


class FallbackKind(StrEnum):
    LETTER = "letter"
    COMMUNITY_WORKER = "community_worker"


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    # sha256(subject_key|event|grant_ref|period)[:32]; also the OutId / SessionContext we send.
    unique_key: str = Field(max_length=32, unique=True)
    subject_key: str = Field(max_length=32, index=True)
    event_kind: str = Field(max_length=32)
    grant_ref: str = Field(max_length=64)
    period: str = Field(max_length=16)
    template_code: str = Field(max_length=64)
    agency: str = Field(max_length=40)
    body: str = Field(sa_column=Column(Text, nullable=False))
    variables: str = Field(sa_column=Column(Text, nullable=False))  # JSON, masked values only
    segments: int
    urgent: bool = False
    essential: bool = True
    batch_ref: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(max_length=20)
    attempts: int = 0
    next_attempt_at: datetime
    provider: str | None = Field(default=None, max_length=16)
    provider_message_id: str | None = Field(default=None, max_length=64, index=True)
    claim_token: str | None = Field(default=None, max_length=32)
    claimed_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    cancelled_at: datetime | None = None
    updated_at: datetime


class NotificationTransition(SQLModel, table=True):
    """Every status change of a notification, timestamped (what officers and auditors read)."""

    __tablename__ = "notification_transition"
    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    at: datetime
    detail: str | None = Field(default=None, max_length=200)


class FallbackTask(SQLModel, table=True):
    """A letter or a community worker's visit instead of an SMS nobody could receive."""

    __tablename__ = "notification_fallback_task"
    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", unique=True)
    subject_key: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=20)
    reason: str = Field(max_length=40)
    status: str = Field(default="open", max_length=16)
    created_at: datetime


class SmsOptOut(SQLModel, table=True):
    """Citizens who asked not to receive non-essential messages."""

    __tablename__ = "sms_opt_out"
    id: int | None = Field(default=None, primary_key=True)
    subject_key: str = Field(max_length=32, unique=True)
    source: str = Field(max_length=40)
    created_at: datetime
