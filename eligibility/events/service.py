"""Ingesting life events: validate, record once (unique per department and event id), write
the record into the shared data, let the rulesets decide, and apply what they decided in the
same transaction: a death suspends the person's grants at once (payments held) and reaches the
``SUBJECT_DIED`` hooks (notifications cancel pending messages, certificates are revoked), a
completed birth bundle is recorded, a reminder task is raised, and the subjects concerned are
queued for re-evaluation by the next sweep.

A bad line is never lost: it is kept (encrypted) as a rejected event with its reason. Each
event is its own unit of work, so one bad event does not hold up the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db import session_scope
from app.errors import MianshenError
from app.privacy import keyring
from eligibility.events import repository as repo
from eligibility.events.models import EventBundle, EventTask, LifeEvent
from eligibility.events.records import deregister_enterprise, upsert_record
from eligibility.events.rules import Effect, decide_bundle, decide_event
from eligibility.events.schemas import EVENT_DATASETS, EventIn, EventKind, IngestReport
from eligibility.grants import repository as grants_repo
from eligibility.grants.bulk import utcnow
from eligibility.grants.context import SweepContext
from eligibility.grants.hooks import Death, Hook, fire
from eligibility.grants.lifecycle import GrantState
from eligibility.grants.review import finish, suspend

REMINDER = "birth_registration_missing"
REMIND_AFTER_DAYS = 30


def _ymd(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _record_subject(event: EventIn, row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Subject kind, subject key and the fact the rules see (pseudonymous keys only)."""
    fact: dict[str, Any] = {"kind": event.kind.value, "occurred_on": event.occurred_on.isoformat()}
    if event.kind in (EventKind.ENTERPRISE_REGISTERED, EventKind.ENTERPRISE_DEREGISTERED):
        fact["subject_key"] = row["uscc"]
        return "enterprise", row["uscc"], fact
    if event.kind is EventKind.BIRTH_CERTIFICATE:
        fact.update(certificate_no=row["certificate_no"], mother_key=row["mother_key"],
                    father_key=row.get("father_key") or "", subject_key=row["mother_key"],
                    remind_from=_ymd(event.occurred_on + timedelta(days=REMIND_AFTER_DAYS)))
        return "person", row["mother_key"], fact
    if event.kind is EventKind.MARRIAGE:
        fact.update(subject_key=row["party_a_key"], other_key=row["party_b_key"])
        return "person", row["party_a_key"], fact
    fact["subject_key"] = row["subject_key"]
    if event.kind is EventKind.HUKOU_REGISTRATION:
        fact["certificate_no"] = event.certificate_no or ""
    return "person", row["subject_key"], fact


def ingest_event(
    session: Session, raw: dict[str, Any], as_of: date, known: set[tuple[str, str]] | None = None
) -> tuple[str, list[Effect]]:
    """One event in the caller's transaction; returns (accepted|duplicate, effects).
    ``known``: (department, event id) pairs already held (looked up per chunk)."""
    event = EventIn.model_validate(raw)
    identity = (event.source_dept.value, event.event_id)
    if known is None:
        known = set()
        if repo.find_event(session, *identity) is not None:
            known.add(identity)
    if identity in known:
        return "duplicate", []
    known.add(identity)
    connection = session.connection()
    if event.kind is EventKind.ENTERPRISE_DEREGISTERED:
        code = deregister_enterprise(connection, event.record, "deregistered")
        row: dict[str, Any] = {"uscc": code}
    else:
        row = upsert_record(connection, EVENT_DATASETS[event.kind], event.record,
                            event.source_dept.value)
    subject_kind, subject_key, fact = _record_subject(event, row)
    correlation = fact.get("certificate_no") or None
    fact["id"] = f"life-{event.source_dept.value}-{event.event_id}"  # unique: the event's identity
    stored = LifeEvent(
        source_dept=event.source_dept.value, event_id=event.event_id, kind=event.kind.value,
        subject_kind=subject_kind, subject_key=subject_key, correlation_key=correlation,
        occurred_on=event.occurred_on, payload_enc=keyring().encrypt_json(raw),
        fact=json.dumps(fact, sort_keys=True), status="accepted", received_at=utcnow(),
    )
    session.add(stored)
    session.flush()
    effects = decide_event({**fact, "event_row": stored.id})
    if correlation:
        effects += decide_bundle(correlation, repo.bundle_facts(session, correlation))
    apply_effects(session, effects, as_of)
    return "accepted", effects


def apply_effects(session: Session, effects: Iterable[Effect], as_of: date) -> None:
    ctx = SweepContext(session=session, backend_or_none=None, as_of=as_of, actor="system:events")
    deaths: list[Death] = []
    for effect in effects:
        if effect.action == "suspend_grants":
            for key in effect.subject_keys:
                granted = [g for g in grants_repo.open_grants_of_subject(session, key)
                           if g.state == GrantState.GRANTED]
                suspend(ctx, granted, f"{effect.subject_kind}_event_reported",
                        f"reported {effect.detail}")
                ctx.counts["suspended"] += len(granted)
        elif effect.action == "subject_died":
            deaths += [Death(k, date.fromisoformat(effect.detail), effect.event_ids[0])
                       for k in effect.subject_keys]
        elif effect.action == "reevaluate":
            repo.request_reevaluation(session, effect.subject_kind, effect.subject_keys,
                                      effect.detail)
        elif effect.action == "bundle_complete":
            _complete_bundle(session, effect, as_of)
        elif effect.action == "remind":
            if repo.task(session, REMINDER, effect.correlation_key) is not None:
                continue
            session.add(EventTask(
                kind=REMINDER, correlation_key=effect.correlation_key,
                subject_key=effect.subject_keys[0] if effect.subject_keys else "", due_on=as_of,
                status="open", detail="出生医学证明已签发30日,尚未办理出生户籍登记,请社区跟进",
                created_at=utcnow(),
            ))
    session.flush()
    fire(session, Hook.SUBJECT_DIED, deaths)
    finish(ctx)
    session.info["suspended"] = session.info.get("suspended", 0) + ctx.counts["suspended"]


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
    repo.request_reevaluation(session, "person", effect.subject_keys, "birth_bundle")


def _reject(engine: Engine, line_no: int, raw_text: str, reason: str, as_of: date) -> None:
    """Keep a bad line (encrypted, it may hold personal data) with its reason."""
    digest = hashlib.sha256(raw_text.encode()).hexdigest()[:64]
    with session_scope(engine) as session:
        if repo.find_event(session, "rejected", digest) is None:
            session.add(LifeEvent(
                source_dept="rejected", event_id=digest, kind="invalid", subject_kind="",
                subject_key="", occurred_on=as_of,
                payload_enc=keyring().encrypt_json({"line": line_no, "raw": raw_text}),
                status="rejected", error=reason[:2000], received_at=utcnow(),
            ))


INGEST_ERRORS = (ValueError, ValidationError, MianshenError, IntegrityError)


def ingest_lines(
    engine: Engine, lines: Iterable[str], as_of: date, chunk: int = 100
) -> IngestReport:
    """Ingest JSONL lines, up to ``chunk`` events per transaction (one commit for many deaths
    at 200/s). If anything in a chunk fails, the chunk is rolled back and its events are redone
    one per transaction, so a bad event is rejected alone and nothing is half applied."""
    report = IngestReport()
    pending: list[tuple[int, str, dict[str, Any]]] = []
    for line_no, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise ValueError("an event must be a JSON object")
        except ValueError as error:
            _rejected(engine, report, line_no, text, error, as_of)
            continue
        pending.append((line_no, text, raw))
    for start in range(0, len(pending), chunk):
        part = pending[start : start + chunk]
        try:
            _ingest_chunk(engine, part, as_of, report)
        except INGEST_ERRORS as error:
            if len(part) == 1:
                _rejected(engine, report, part[0][0], part[0][1], error, as_of)
                continue
            for item in part:
                try:
                    _ingest_chunk(engine, [item], as_of, report)
                except INGEST_ERRORS as error:
                    _rejected(engine, report, item[0], item[1], error, as_of)
    return report


def _ingest_chunk(
    engine: Engine, part: list[tuple[int, str, dict[str, Any]]], as_of: date,
    report: IngestReport,
) -> None:
    tally = IngestReport()
    with session_scope(engine) as session:
        identities = [(str(raw.get("source_dept")), str(raw.get("event_id"))) for _, _, raw in part]
        known = repo.held_identities(session, identities)
        for _, _, raw in part:
            outcome, effects = ingest_event(session, raw, as_of, known)
            if outcome == "duplicate":
                tally.duplicates += 1
                continue
            tally.accepted += 1
            tally.bundles_completed += sum(e.action == "bundle_complete" for e in effects)
            asked = [e for e in effects if e.action == "reevaluate"]
            tally.reevaluations += sum(len(e.subject_keys) for e in asked)
        tally.suspended_grants = session.info.pop("suspended", 0)
    for name in ("accepted", "duplicates", "bundles_completed", "reevaluations",
                 "suspended_grants"):
        setattr(report, name, getattr(report, name) + getattr(tally, name))


def _rejected(
    engine: Engine, report: IngestReport, line_no: int, text: str, error: Exception, as_of: date
) -> None:
    reason = _safe_reason(error)
    report.rejected += 1
    report.errors.append(f"line {line_no}: {reason}")
    _reject(engine, line_no, text, reason, as_of)


def _safe_reason(error: Exception) -> str:
    """A reason that names fields and problems but never echoes the values sent."""
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in error.errors())
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON ({error.msg})"
    if isinstance(error, IntegrityError):
        return "conflicts with data already held"
    return str(error)


def daily_tick(engine: Engine, as_of: date) -> int:
    """Raise reminders for birth bundles still incomplete 30 days after the certificate."""
    raised = 0
    with session_scope(engine) as session:
        pending = repo.unbundled_birth_certificates(session)
    for certificate_no in pending:
        with session_scope(engine) as session:
            effects = decide_bundle(certificate_no, repo.bundle_facts(session, certificate_no),
                                    tick_day=_ymd(as_of))
            apply_effects(session, effects, as_of)
            raised += sum(e.action == "remind" for e in effects)
    return raised
