"""Applying what the rulesets decided, for a whole batch of events at once, inside the caller's
transaction: grants of the subjects concerned are suspended (``grants.suspension``: a handful
of statements for the whole batch), deaths reach the ``SUBJECT_DIED`` hooks
in one call (notifications cancel pending messages, certificates are revoked), birth bundles
are recorded, reminder tasks raised and re-evaluations queued.

A suspension caused by a death carries the reason ``death``: nobody is sent an SMS about it.
The ``GRANT_CHANGED`` hooks run before the ``SUBJECT_DIED`` hooks, so anything a grant change
queued for a person who has died is cancelled in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session

from eligibility.events import repository as repo
from eligibility.events.models import EventBundle, EventTask
from eligibility.events.rules import Effect
from eligibility.grants.bulk import utcnow
from eligibility.grants.context import SweepContext
from eligibility.grants.hooks import Death, Hook, fire
from eligibility.grants.review import finish
from eligibility.grants.suspension import suspend_subjects

REMINDER = "birth_registration_missing"
DEATH_REASON = "death"


def apply_effects(session: Session, effects: Iterable[Effect], as_of: date) -> int:
    """Apply a batch's effects; returns how many grants were suspended."""
    ctx = SweepContext(session=session, backend_or_none=None, as_of=as_of, actor="system:events")
    deaths: list[Death] = []
    suspensions: dict[str, tuple[str, str]] = {}  # subject key -> (reason, detail)
    reevaluations: list[tuple[str, str, str]] = []  # (subject kind, key, reason)
    for effect in effects:
        if effect.action == "suspend_grants":
            for key in effect.subject_keys:
                reason = DEATH_REASON if effect.subject_kind == "person" else (
                    f"{effect.subject_kind}_event_reported")
                suspensions.setdefault(key, (reason, f"reported {effect.detail}"))
        elif effect.action == "subject_died":
            deaths += [Death(k, date.fromisoformat(effect.detail), effect.event_ids[0])
                       for k in effect.subject_keys]
        elif effect.action == "reevaluate":
            reevaluations += [(effect.subject_kind, k, effect.detail) for k in effect.subject_keys]
        elif effect.action == "bundle_complete":
            _complete_bundle(session, effect, as_of)
        elif effect.action == "remind":
            _remind(session, effect, as_of)
    repo.request_reevaluations(session, reevaluations)
    died = [k for k, (reason, _) in suspensions.items() if reason == DEATH_REASON]
    for certificate, child in repo.certificates_of_children(session, died).items():
        suspensions.setdefault(certificate, suspensions[child])  # the child's own grants
    suspended = suspend_subjects(ctx, suspensions)
    finish(ctx)  # flush, ledger, GRANT_CHANGED hooks
    fire(session, Hook.SUBJECT_DIED, deaths)
    session.flush()
    return suspended


def _remind(session: Session, effect: Effect, as_of: date) -> None:
    if repo.task(session, REMINDER, effect.correlation_key) is not None:
        return
    session.add(EventTask(
        kind=REMINDER, correlation_key=effect.correlation_key,
        subject_key=effect.subject_keys[0] if effect.subject_keys else "", due_on=as_of,
        status="open", detail="出生医学证明已签发30日,尚未办理出生户籍登记,请社区跟进",
        created_at=utcnow(),
    ))


def _complete_bundle(session: Session, effect: Effect, as_of: date) -> None:
    if repo.bundle(session, "birth", effect.correlation_key) is not None:
        return
    session.add(EventBundle(
        kind="birth", correlation_key=effect.correlation_key,
        event_ids=",".join(str(i) for i in effect.event_ids), completed_on=as_of,
        created_at=utcnow(),
    ))
    reminder = repo.task(session, REMINDER, effect.correlation_key)
    if reminder is not None and reminder.status == "open":
        reminder.status = "done"
        session.add(reminder)
    asked = [("person", key, "birth_bundle") for key in effect.subject_keys]
    asked.append(("child", effect.correlation_key, "birth_bundle"))  # the child's own policies
    repo.request_reevaluations(session, asked)
    session.flush()
