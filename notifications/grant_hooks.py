"""Glue between the grant pipeline and the SMS outbox.

A grant change becomes an outbox row in the same transaction (``Hook.GRANT_CHANGED``), and so
does each payment put in a payment batch (``Hook.PAYMENTS_BATCHED``: "payment made") and an
officer's outcome on an objection (``Hook.OBJECTION_RESOLVED``: "objection result"); a death
cancels every pending message of that person (``Hook.SUBJECT_DIED``) and an ending caused by
death sends nothing -- nobody gets an SMS about a relative who just died. Only person subjects
are messaged here, and for a child's grant its guardian (the payee); enterprises are reached
through their legal representative (not yet wired).
:func:`install` registers the hooks; every process that sweeps or ingests events calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from app.datahub.catalog import Department
from eligibility.grants.hooks import Death, GrantChange, Hook, ObjectionResolved, register
from notifications.models import EventKind
from notifications.schemas import NotificationRequest
from notifications.service import cancel_pending_for, enqueue_many
from notifications.templates import TEMPLATE_SETS, template_for

log = logging.getLogger(__name__)
POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
DISTRICT = "禅城区"
AGENCY_SHORT_NAMES: dict[Department, str] = {
    Department.CIVIL_AFFAIRS: "民政局",
    Department.HUMAN_RESOURCES: "人社局",
    Department.HEALTH: "卫健局",
    Department.DISABLED_PERSONS_FEDERATION: "残联",
    Department.PUBLIC_SECURITY: "公安分局",
    Department.MARKET_REGULATION: "市场监管局",
    Department.TAX: "税务局",
    Department.DEVELOPMENT_REFORM: "发改局",
}
END_REASONS_ZH = {
    "moved_away": "户籍已迁出本区",
    "moved_out": "户籍已迁出本区",
    "status_lost": "不再符合享受条件",
    "not_eligible": "不再符合享受条件",
}
SILENT_REASONS = frozenset({"death", "died", "deceased"})
MESSAGED_KINDS = frozenset({"person", "child"})  # a child's grant messages its guardian


@lru_cache
def _policy_meta() -> dict[str, tuple[str, str | None, str]]:
    """policy id → (title, template set, agency signature) of the bundled catalog."""
    from eligibility.policy import load_file

    meta: dict[str, tuple[str, str | None, str]] = {}
    for path in sorted(POLICY_DIR.glob("*.yaml")):
        document = load_file(path).document
        template = document.notification.template if document.notification else None
        agency = DISTRICT + AGENCY_SHORT_NAMES[Department(document.issuing_department)]
        template_set = template.split(".")[0] if template else None
        # A policy naming a set without templates of its own gets the default wording.
        meta[document.id] = (
            document.title,
            template_set if template_set in TEMPLATE_SETS else None,
            agency,
        )
    return meta


def _event_for(change: GrantChange) -> EventKind | None:
    if change.reason.lower() in SILENT_REASONS:
        return None
    if change.to_state == "granted" and change.from_state == "granted":
        return EventKind.TIER_CHANGED
    return {
        "granted": EventKind.GRANTED,
        "suspended": EventKind.SUSPENDED,
        "ended": EventKind.ENDED,
        "awaiting_confirmation": EventKind.CONFIRMATION_NEEDED,
    }.get(change.to_state)


def _variables(change: GrantChange, title: str) -> dict[str, Any]:
    return {
        "benefit": title,
        "start_month": change.effective_date,
        "amount_fen": change.amount_fen or 0,
        "reason": END_REASONS_ZH.get(change.reason, "不再符合享受条件"),
        "deadline": change.effective_date,
        "channel": "粤省事小程序",
    }


def on_grant_changed(session: Session, changes: Sequence[GrantChange]) -> None:
    meta = _policy_meta()
    requests = []
    for change in changes:
        event = _event_for(change)
        if change.subject_kind not in MESSAGED_KINDS or event is None:
            continue
        if change.policy_id not in meta:
            continue
        title, template_set, agency = meta[change.policy_id]
        wanted = template_for(template_set, event).caller_variables
        variables = {k: v for k, v in _variables(change, title).items() if k in wanted}
        requests.append(
            NotificationRequest(
                subject_key=change.recipient_key,  # a child's grant: the guardian paid
                event=event,
                grant_ref=f"grant-{change.grant_id}",
                period=change.effective_date.strftime("%Y-%m"),
                agency=agency,
                variables=variables,
                template_set=template_set,
                batch_ref=f"{change.policy_id}:{change.effective_date.isoformat()}",
            )
        )
    if requests:
        report = enqueue_many(session, requests)
        log.info("grant changes queued %d messages (%d existed)", report.created, report.existing)


def on_payments_batched(session: Session, payment_ids: Sequence[int]) -> None:
    from eligibility.payments.models import Payment

    meta = _policy_meta()
    template = {s: template_for(s, EventKind.PAYMENT_MADE) for s in {m[1] for m in meta.values()}}
    requests = []
    for start in range(0, len(payment_ids), 1000):
        chunk = list(payment_ids[start : start + 1000])
        for payment in session.exec(select(Payment).where(col(Payment.id).in_(chunk))):
            if payment.policy_id not in meta or payment.amount_fen <= 0:
                continue
            title, template_set, agency = meta[payment.policy_id]
            wanted = template[template_set].caller_variables
            variables: dict[str, str | int | date] = {
                "benefit": title,
                "paid_on": date.today(),
                "amount_fen": payment.amount_fen,
            }
            requests.append(
                NotificationRequest(
                    subject_key=payment.subject_key,
                    event=EventKind.PAYMENT_MADE,
                    grant_ref=f"grant-{payment.grant_id}",
                    period=f"{payment.period}-{payment.kind}",
                    agency=agency,
                    variables={k: v for k, v in variables.items() if k in wanted},
                    template_set=template_set,
                    batch_ref=f"payments:{payment.period}",
                )
            )
    if requests:
        report = enqueue_many(session, requests)
        log.info("payments queued %d messages (%d existed)", report.created, report.existing)


OBJECTION_RESULTS_ZH = {True: "已采纳", False: "未采纳"}


def on_objection_resolved(session: Session, outcomes: Sequence[ObjectionResolved]) -> None:
    """Tell the objector the officer's outcome (once per objection)."""
    meta = _policy_meta()
    requests = []
    for outcome in outcomes:
        if outcome.subject_kind not in MESSAGED_KINDS or outcome.policy_id not in meta:
            continue
        title, template_set, agency = meta[outcome.policy_id]
        wanted = template_for(template_set, EventKind.OBJECTION_RESULT).caller_variables
        variables: dict[str, str | int | date] = {
            "benefit": title, "result": OBJECTION_RESULTS_ZH[outcome.upheld],
            "channel": "粤省事小程序",
        }
        requests.append(NotificationRequest(
            subject_key=outcome.recipient_key,
            event=EventKind.OBJECTION_RESULT,
            grant_ref=f"grant-{outcome.grant_id}",
            period=f"obj-{outcome.objection_id}",
            agency=agency,
            variables={k: v for k, v in variables.items() if k in wanted},
            template_set=template_set,
            batch_ref=f"objections:{outcome.resolved_on.isoformat()}",
        ))
    if requests:
        report = enqueue_many(session, requests)
        log.info("objection outcomes queued %d messages (%d existed)", report.created,
                 report.existing)


def on_subject_died(session: Session, deaths: Sequence[Death]) -> None:
    keys = [d.subject_key for d in deaths]
    cancelled = cancel_pending_for(session, keys, "death record received")
    log.info("deaths cancelled %d pending messages", cancelled)


def install() -> None:
    register(Hook.GRANT_CHANGED, on_grant_changed)
    register(Hook.PAYMENTS_BATCHED, on_payments_batched)
    register(Hook.SUBJECT_DIED, on_subject_died)
    register(Hook.OBJECTION_RESOLVED, on_objection_resolved)
