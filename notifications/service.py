"""Notification logic that runs inside the caller's unit of work: enqueue (the outbox write in
the same transaction as the grant, payment or event), cancel pending messages (a death), the
opt-out list, delivery receipts, and the views for officers and citizens.

Every function here only flushes; the edge (request, task, CLI command) commits. Sending lives
in ``dispatch``.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session

from app.errors import NotFound
from app.privacy import keyring, mask_mobile
from app.settings import SmsSettings, get_settings
from notifications import queries, repository
from notifications.limits import QuietHours
from notifications.models import (
    NON_ESSENTIAL_EVENTS,
    EventKind,
    NotificationStatus,
)
from notifications.providers.base import Receipt
from notifications.schemas import (
    STATUS_LABELS_ZH,
    CitizenMessage,
    DeliveryStats,
    DeliveryStep,
    EnqueueReport,
    NotificationDetail,
    NotificationRequest,
    NotificationSummary,
    NotificationView,
    ReceiptReport,
    view,
)
from notifications.templates import dumps_variables, render, salutation, template_for

log = logging.getLogger(__name__)
S = NotificationStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


def unique_key(subject_key: str, event: EventKind | str, grant_ref: str, period: str) -> str:
    """The message's identity, also handed to providers as OutId / SessionContext."""
    material = f"{subject_key}|{EventKind(event).value}|{grant_ref}|{period}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _salutations(session: Session, subject_keys: set[str], today: date) -> dict[str, str]:
    ring = keyring()
    result = {}
    for key, person in repository.persons_for(session, subject_keys).items():
        name = ring.decrypt_json(person.pii).get("name") if person.pii else None
        result[key] = salutation(name, person.sex, person.birth_date, today)
    return result


def enqueue_many(
    session: Session,
    requests: list[NotificationRequest],
    *,
    now: datetime | None = None,
    settings: SmsSettings | None = None,
) -> EnqueueReport:
    """Validate and write messages to the outbox; an existing identity is left untouched.

    Raises :class:`notifications.templates.TemplateError` (nothing written) when any message
    breaks the template rules."""
    now = now or utcnow()
    sms = settings or get_settings().sms
    quiet = QuietHours(sms)
    greetings = _salutations(session, {r.subject_key for r in requests}, quiet.local(now).date())
    rows = []
    for request in requests:
        template = template_for(request.template_set, request.event)
        rendered = render(
            template,
            dict(request.variables),
            agency=request.agency,
            salutation=greetings.get(request.subject_key, ""),
            hotline=sms.hotline,
        )
        rows.append(
            {
                "unique_key": unique_key(
                    request.subject_key, request.event, request.grant_ref, request.period
                ),
                "subject_key": request.subject_key,
                "event_kind": request.event.value,
                "grant_ref": request.grant_ref,
                "period": request.period,
                "template_code": template.code,
                "agency": request.agency,
                "body": rendered.body,
                "variables": dumps_variables(rendered.variables),
                "segments": rendered.segments,
                "urgent": request.urgent,
                "essential": request.event not in NON_ESSENTIAL_EVENTS,
                "batch_ref": request.batch_ref,
                "status": S.CREATED.value,
                "attempts": 0,
                "next_attempt_at": now if request.urgent else quiet.next_allowed(now),
                "created_at": now,
                "updated_at": now,
            }
        )
    created = repository.insert_notifications(session, rows)
    ids = [notification_id for notification_id, _ in created]
    repository.add_transitions(session, ids, None, S.CREATED, now)
    session.flush()
    return EnqueueReport(created=len(created), existing=len(rows) - len(created), ids=ids)


def enqueue(
    session: Session, request: NotificationRequest, *, now: datetime | None = None
) -> EnqueueReport:
    """Write one message to the outbox in the caller's transaction (see :func:`enqueue_many`)."""
    return enqueue_many(session, [request], now=now)


def cancel_pending(
    session: Session, subject_key: str, reason: str, *, now: datetime | None = None
) -> int:
    """Cancel every message still waiting for this subject (e.g. a death has arrived)."""
    return cancel_pending_for(session, [subject_key], reason, now=now)


def cancel_pending_for(
    session: Session, subject_keys: Sequence[str], reason: str, *, now: datetime | None = None
) -> int:
    """Cancel every message still waiting for these subjects (a batch of deaths).

    A message already claimed (``sending``) is past recall; anything created or waiting for a
    retry is cancelled and never handed to a provider. Returns how many were cancelled."""
    now = now or utcnow()
    pending = repository.pending_for_subjects(session, subject_keys)
    cancelled = 0
    for status in (S.CREATED, S.RETRYING):
        ids = [row.id for row in pending if row.status == status]
        changed = repository.set_status(
            session,
            ids,
            expected=[status],
            status=S.CANCELLED.value,
            cancelled_at=now,
            updated_at=now,
            last_error=reason[:200],
            claim_token=None,
        )
        repository.add_transitions(session, changed, status, S.CANCELLED, now, reason[:200])
        cancelled += len(changed)
    session.flush()
    return cancelled


def opt_out(
    session: Session, subject_key: str, source: str = "citizen", *, now: datetime | None = None
) -> bool:
    """Stop non-essential messages (payments, certificates, reminders) for this subject."""
    return repository.add_opt_out(session, subject_key, source[:40], now or utcnow())


def opt_in(session: Session, subject_key: str) -> bool:
    return repository.remove_opt_out(session, subject_key)


_RECEIPT_FROM = (S.SENT.value, S.SENDING.value)


def apply_receipts(
    session: Session, receipts: list[Receipt], *, now: datetime | None = None
) -> ReceiptReport:
    """Apply delivery reports; a report for a message already final changes nothing."""
    now = now or utcnow()
    report = ReceiptReport()
    rows = repository.for_receipts(
        session,
        [r.out_id for r in receipts if r.out_id],
        [r.provider_message_id for r in receipts if r.provider_message_id and not r.out_id],
    )
    by_key = {row.unique_key: row for row in rows}
    by_message_id = {row.provider_message_id: row for row in rows if row.provider_message_id}
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    message_ids: dict[int, str] = {}
    seen: set[int] = set()
    for receipt in receipts:
        row = by_key.get(receipt.out_id or "") or by_message_id.get(
            receipt.provider_message_id or ""
        )
        if row is None:
            report.unknown += 1
            continue
        if row.id in seen or row.status not in _RECEIPT_FROM:
            report.duplicates += 1
            continue
        seen.add(row.id)
        if receipt.delivered:
            target = S.DELIVERED
        else:
            target = S.PERMANENT_FAILURE if receipt.permanent else S.TEMPORARY_FAILURE
        groups[(row.status, target.value, receipt.code)].append(row.id)
        if receipt.provider_message_id and not row.provider_message_id:
            message_ids[row.id] = receipt.provider_message_id
    for (from_status, target_status, code), ids in groups.items():
        values: dict[str, Any] = {
            "updated_at": now,
            "sent_at": func.coalesce(repository.N.c.sent_at, now),
        }
        if target_status == S.DELIVERED:
            values["delivered_at"] = now
        else:
            values.update(failed_at=now, last_error=f"receipt {code}"[:200])
        changed = repository.move(
            session,
            ids,
            expected=from_status,
            to_status=target_status,
            at=now,
            detail=f"receipt {code}"[:200],
            **values,
        )
        report.applied += len(changed)
        report.duplicates += len(ids) - len(changed)
    repository.set_message_ids(session, message_ids)
    session.flush()
    if report.unknown:
        log.warning("sms receipts: %d reports matched no notification", report.unknown)
    return report


def delivery_stats(session: Session, batch_ref: str | None = None) -> DeliveryStats:
    counts = repository.status_counts(session, batch_ref)
    return _stats(batch_ref, counts, 0)


def _stats(batch_ref: str | None, counts: dict[str, int], segments: int) -> DeliveryStats:
    handed = sum(
        counts.get(s, 0) for s in (S.SENT, S.DELIVERED, S.TEMPORARY_FAILURE, S.PERMANENT_FAILURE)
    )
    delivered = counts.get(S.DELIVERED, 0)
    return DeliveryStats(
        batch_ref=batch_ref,
        total=sum(counts.values()),
        by_status=dict(sorted(counts.items())),
        segments=segments,
        delivered_share=round(delivered / handed, 4) if handed else 0.0,
    )


def batch_stats(session: Session) -> list[DeliveryStats]:
    """Per-batch delivery statistics for officers (batch = a sweep run, a payment run...)."""
    counts: dict[str | None, dict[str, int]] = defaultdict(dict)
    segments: dict[str | None, int] = defaultdict(int)
    for row in repository.batch_status_counts(session):
        counts[row.batch_ref][row.status] = row.messages
        segments[row.batch_ref] += int(row.segments or 0)
    return [_stats(batch, counts[batch], segments[batch]) for batch in counts]


def list_notifications(
    session: Session, *, status: str | None = None, batch_ref: str | None = None, limit: int = 100
) -> list[NotificationView]:
    rows = repository.list_notifications(session, status=status, batch_ref=batch_ref, limit=limit)
    return [view(row) for row in rows]


def citizen_messages(session: Session, subject_key: str, limit: int = 100) -> list[CitizenMessage]:
    """A citizen's own messages, newest first, with their status in Chinese."""
    rows = repository.list_notifications(session, subject_key=subject_key, limit=limit)
    return [
        CitizenMessage(
            body=row.body,
            status=row.status,
            status_zh=STATUS_LABELS_ZH.get(row.status, row.status),
            created_at=row.created_at,
            sent_at=row.sent_at,
            delivered_at=row.delivered_at,
        )
        for row in rows
    ]


ATTEMPT_STATUSES = frozenset({S.SENDING.value, S.SENT.value, S.RETRYING.value,
                              S.TECHNICAL_FAILURE.value})


def staff_page(session: Session, *, after_id: int, limit: int, **filters: Any
               ) -> list[NotificationSummary]:
    """``limit`` notifications after ``after_id`` for staff (see ``queries``)."""
    rows = queries.notifications_page(session, after_id=after_id, limit=limit, **filters)
    return [NotificationSummary.of(row) for row in rows]


def staff_detail(session: Session, notification_id: int) -> NotificationDetail:
    """One notification with its delivery attempts and receipts, and the mobile it goes to,
    masked (the caller logs the view: it shows the message text and a masked mobile)."""
    row = queries.notification(session, notification_id)
    if row is None:
        raise NotFound(f"notification {notification_id} not found", "未找到该短信记录")
    person = repository.persons_for(session, [row.subject_key]).get(row.subject_key)
    mobile = None
    if person is not None and person.pii:
        mobile = str(keyring().decrypt_json(person.pii).get("mobile") or "").strip() or None
    steps = [
        DeliveryStep(at=step.at, kind=_step_kind(step.to_status, step.detail),
                     from_status=step.from_status, to_status=step.to_status, detail=step.detail)
        for step in queries.history(session, notification_id)
    ]
    summary = NotificationSummary.of(row)
    return NotificationDetail(**summary.model_dump(), body=row.body,
                              mobile_masked=mask_mobile(mobile) if mobile else None,
                              provider_message_id=row.provider_message_id, history=steps)


def _step_kind(to_status: str, detail: str | None) -> str:
    if (detail or "").startswith("receipt"):
        return "receipt"
    return "attempt" if to_status in ATTEMPT_STATUSES else "outbox"
