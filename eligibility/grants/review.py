"""Grant transitions one at a time: officers' decisions on the review queue, public-notice
objections (which pause the notice window), officers' outcomes on objections to any decision,
the beneficiary's confirmation, the end of a notice window, suspension (a death event) and
resumption, and a citizen's refusal of automated decisions. Every change writes a
``grant_event`` with its time and reason and reaches the hooks; ledger effects are reconciled in
the same unit of work.

Bulk changes driven by evaluation live in ``service``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from app.errors import Conflict, NotFound
from app.privacy import keyring
from eligibility.grants import repository as repo
from eligibility.grants.bulk import utcnow
from eligibility.grants.context import SweepContext
from eligibility.grants.hooks import GrantChange, Hook, ObjectionResolved, fire
from eligibility.grants.lifecycle import (
    CLOSED_STATES,
    GrantState,
    decode_steps,
    encode_steps,
    next_state,
)
from eligibility.grants.models import AutomationRefusal, Grant, GrantEvent, Objection, ReviewItem
from eligibility.grants.workdays import add_working_days, working_days_between
from eligibility.payments import repository as payments_repo
from eligibility.payments.service import reconcile
from eligibility.sweeps.backend import Selection


def transition(
    ctx: SweepContext, grant: Grant, to_state: GrantState, reason: str, detail: str = "",
    effective: date | None = None,
) -> None:
    from_state = grant.state
    now = utcnow()
    grant.state = to_state.value
    grant.is_open = to_state not in CLOSED_STATES
    grant.updated_at = now
    ctx.session.add(grant)
    event = GrantEvent(
        grant_id=grant.id or 0, from_state=from_state, to_state=to_state.value, reason=reason,
        detail=detail, effective_date=effective or ctx.as_of, actor=ctx.actor,
        decision_id=grant.decision_id, at=now,
    )
    ctx.session.add(event)
    ctx.audit.add_orm_event(event, grant.policy_id, grant.subject_key)
    ctx.changes.append(GrantChange(
        grant.id or 0, grant.policy_id, grant.subject_kind, grant.subject_key, from_state,
        to_state.value, reason, effective or ctx.as_of, grant.amount_fen, grant.tier,
        grant.payee_key,
    ))
    if to_state in (GrantState.GRANTED, GrantState.ENDED) and grant.period_kind != "none":
        ctx.reconcile_ids.add(grant.id or 0)


def proceed(ctx: SweepContext, grant: Grant, reason: str) -> None:
    """Move a grant on to its next process step (or to granted when none is left)."""
    state, remaining = next_state(decode_steps(grant.process_steps))
    grant.process_steps = encode_steps(remaining)
    if state is GrantState.PUBLIC_NOTICE:
        grant.notice_started_on = ctx.as_of
        grant.notice_ends_on = add_working_days(ctx.as_of, grant.notice_remaining_days or 5)
    transition(ctx, grant, state, reason)


def _open_grant(ctx: SweepContext, grant_id: int, *states: GrantState) -> Grant:
    grant = ctx.session.get(Grant, grant_id, with_for_update=True)
    if grant is None:
        raise NotFound(f"grant {grant_id} not found", "未找到该待遇记录")
    if states and grant.state not in states:
        raise Conflict(
            f"grant {grant_id} is {grant.state}, expected {', '.join(states)}",
            "该待遇当前状态不允许此操作",
        )
    return grant


def decide_review(ctx: SweepContext, review_id: int, approve: bool, note: str = "") -> Grant:
    """An officer's decision on a queued grant (manual review of a flagged case, or the
    policy's internal review step)."""
    item = ctx.session.get(ReviewItem, review_id, with_for_update=True)
    if item is None:
        raise NotFound(f"review item {review_id} not found", "未找到该复核事项")
    if item.status != "open":
        raise Conflict(f"review item {review_id} is already {item.status}", "该复核事项已处理")
    grant = _open_grant(ctx, item.grant_id, GrantState.MANUAL_REVIEW, GrantState.INTERNAL_REVIEW)
    item.status = "approved" if approve else "rejected"
    item.decided_at = utcnow()
    item.officer = ctx.actor
    item.note = note
    ctx.session.add(item)
    if approve:
        proceed(ctx, grant, f"{item.kind}_review_approved")
    else:
        transition(ctx, grant, GrantState.REJECTED, f"{item.kind}_review_rejected", note)
    _finish(ctx)
    return grant


def file_objection(ctx: SweepContext, grant_id: int, text: str) -> Objection:
    """An objection during the public notice pauses the window until an officer resolves it."""
    grant = _open_grant(ctx, grant_id, GrantState.PUBLIC_NOTICE)
    assert grant.notice_ends_on is not None
    grant.notice_remaining_days = max(working_days_between(ctx.as_of, grant.notice_ends_on), 0)
    objection = Objection(
        grant_id=grant_id, filed_on=ctx.as_of, filed_at=utcnow(),
        text_enc=keyring().encrypt_json({"text": text}), status="open",
    )
    ctx.session.add(objection)
    transition(ctx, grant, GrantState.OBJECTION_PENDING, "objection_filed",
               f"{grant.notice_remaining_days} working days of notice left")
    _finish(ctx)
    return objection


def resolve_objection(ctx: SweepContext, objection_id: int, upheld: bool, note: str = "") -> Grant:
    """An officer's outcome on an open objection, recorded on it (officer, date, note), written
    to the grant's history and the audit log, and told to the objector (``OBJECTION_RESOLVED``).

    During a public notice (the grant is ``objection_pending``) upholding rejects the grant and
    dismissing resumes the notice. An objection to a decision at any other time (PIPL art. 24:
    a human review on request) leaves the grant's state alone: the outcome is recorded as an
    event of the grant in its current state; a decision found wrong is then corrected through
    the ordinary paths (data correction and the next sweep, suspension, review)."""
    objection = ctx.session.get(Objection, objection_id, with_for_update=True)
    if objection is None or objection.status != "open":
        raise Conflict(f"objection {objection_id} is not open", "该异议不存在或已处理")
    grant = _open_grant(ctx, objection.grant_id)
    objection.status = "upheld" if upheld else "dismissed"
    objection.resolved_on = ctx.as_of
    objection.officer = ctx.actor
    objection.note = note
    ctx.session.add(objection)
    if grant.state != GrantState.OBJECTION_PENDING.value:
        _record_outcome(ctx, grant, f"objection_{objection.status}", note)
    elif upheld:
        transition(ctx, grant, GrantState.REJECTED, "objection_upheld", note)
    else:
        grant.notice_ends_on = add_working_days(ctx.as_of, grant.notice_remaining_days or 0)
        transition(ctx, grant, GrantState.PUBLIC_NOTICE, "objection_dismissed",
                   f"notice resumes, ends {grant.notice_ends_on}")
    fire(ctx.session, Hook.OBJECTION_RESOLVED, [ObjectionResolved(
        objection.id or 0, grant.id or 0, grant.policy_id, grant.subject_kind,
        grant.payee_key or grant.subject_key, upheld, ctx.as_of,
    )])
    _finish(ctx)
    return grant


def _record_outcome(ctx: SweepContext, grant: Grant, reason: str, note: str) -> None:
    """A grant event without a state change (history and audit log only; no grant hooks)."""
    event = GrantEvent(
        grant_id=grant.id or 0, from_state=grant.state, to_state=grant.state, reason=reason,
        detail=note, effective_date=ctx.as_of, actor=ctx.actor, decision_id=grant.decision_id,
        at=utcnow(),
    )
    ctx.session.add(event)
    ctx.audit.add_orm_event(event, grant.policy_id, grant.subject_key)


def confirm(ctx: SweepContext, grant_id: int, accepted: bool) -> Grant:
    """The beneficiary's one-click confirmation (intent, bank account) where the policy asks."""
    grant = _open_grant(ctx, grant_id, GrantState.AWAITING_CONFIRMATION)
    if accepted:
        proceed(ctx, grant, "confirmed_by_beneficiary")
    else:
        transition(ctx, grant, GrantState.DECLINED, "declined_by_beneficiary")
    _finish(ctx)
    return grant


def suspend(
    ctx: SweepContext, grants: list[Grant], reason: str, detail: str = ""
) -> None:
    """Stop payments at once: the grants' unbatched payments are held (one statement)."""
    ids = [g.id for g in grants if g.id is not None]
    payments_repo.hold_or_release(ctx.connection, ids, hold=True, now=utcnow())
    for grant in grants:
        transition(ctx, grant, GrantState.SUSPENDED, reason, detail)


def resume(ctx: SweepContext, grant_id: int, reason: str) -> Grant:
    """Lift a suspension: held payments are due again and missed periods are back-paid."""
    grant = _open_grant(ctx, grant_id, GrantState.SUSPENDED)
    payments_repo.hold_or_release(ctx.connection, [grant_id], hold=False, now=utcnow())
    transition(ctx, grant, GrantState.GRANTED, reason)
    ctx.reconcile_ids.add(grant_id)
    _finish(ctx)
    return grant


def advance_notices(ctx: SweepContext, selection: Selection) -> int:
    """Public notices whose window has elapsed without a pending objection move on."""
    statement = select(Grant).where(
        col(Grant.state) == GrantState.PUBLIC_NOTICE.value, col(Grant.notice_ends_on) < ctx.as_of
    )
    if selection.key_lo is not None:
        statement = statement.where(col(Grant.subject_key) >= selection.key_lo)
    if selection.key_hi is not None:
        statement = statement.where(col(Grant.subject_key) < selection.key_hi)
    grants = list(ctx.session.exec(statement.order_by(col(Grant.id))).all())
    for grant in grants:
        proceed(ctx, grant, "public_notice_elapsed")
    ctx.counts["notices_elapsed"] += len(grants)
    return len(grants)


def refuse_automation(session: Session, subject_key: str) -> datetime:
    """Record a citizen's refusal of purely automated decisions (idempotent); returns when the
    refusal was first recorded."""
    refusal = session.get(AutomationRefusal, subject_key)
    if refusal is None:
        refusal = AutomationRefusal(subject_key=subject_key, refused_at=utcnow())
        session.add(refusal)
        session.flush()
    return refusal.refused_at


def open_reviews(session: Session, limit: int = 100) -> list[ReviewItem]:
    statement = select(ReviewItem).where(col(ReviewItem.status) == "open")
    return list(session.exec(statement.order_by(col(ReviewItem.id)).limit(limit)).all())


def _finish(ctx: SweepContext) -> None:
    """Flush ORM changes, reconcile the ledger of grants that need it, and run the hooks."""
    ctx.session.flush()
    if ctx.reconcile_ids:
        ids = sorted(ctx.reconcile_ids)
        ctx.reconcile_ids.clear()
        table = repo.GRANT
        rows = list(ctx.connection.execute(table.select().where(table.c.id.in_(ids))))
        reconcile(ctx, rows, full=True)
    ctx.flush_hooks()


finish = _finish
