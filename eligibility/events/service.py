"""Ingesting life events in batches: validate each event on its own (a bad one is kept,
encrypted, as a rejected event with its reason and never holds up the others), record the
batch once (unique per department and event id, one statement), write the records into the
shared data (one statement per dataset), let the rulesets decide, and apply what they decided
in the same transaction (``effects``): a death suspends the person's grants at once, cancels
pending messages and revokes e-certificates; a completed birth bundle is recorded, a reminder
task raised, the subjects concerned queued for re-evaluation by the next sweep.

One transaction per batch keeps a death's latency low when hundreds arrive per second (a
handful of statements per batch, not per event). If anything in a batch fails, the batch is
rolled back and its events are redone one per transaction, so a bad event is rejected alone
and nothing is half applied. The CLI (``events ingest``) and the department API
(``POST /api/v1/events``) both come through :func:`ingest_batch`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import session_scope
from app.privacy import keyring
from eligibility.events import repository as repo
from eligibility.events.effects import apply_effects
from eligibility.events.intake import INGEST_ERRORS, Prepared, prepare, safe_reason, ymd
from eligibility.events.models import LifeEvent
from eligibility.events.records import deregister_enterprise, upsert_rows
from eligibility.events.rules import Effect, decide_bundle, decide_event
from eligibility.events.schemas import EventKind, EventOutcome, IngestReport, OutcomeStatus
from eligibility.grants.bulk import utcnow

Row = tuple[int, Any]  # (the caller's row number: line number or index, the parsed event)


def ingest_batch(
    engine: Engine, rows: Sequence[Row], as_of: date, department: str | None = None
) -> tuple[IngestReport, list[EventOutcome]]:
    """Ingest parsed events; one outcome per row (accepted, duplicate or rejected + reason).
    ``department``: accept only that department's events (an API key bound to it)."""
    report = IngestReport()
    outcomes: dict[int, EventOutcome] = {}
    ready: list[tuple[int, Prepared]] = []
    seen: set[tuple[str, str]] = set()
    for number, raw in rows:
        try:
            prepared = prepare(raw, department)
        except INGEST_ERRORS as error:
            outcomes[number] = _rejected(engine, report, number, raw, error, as_of)
            continue
        if prepared.identity in seen:
            outcomes[number] = _outcome(number, raw, "duplicate")
            report.duplicates += 1
            continue
        seen.add(prepared.identity)
        ready.append((number, prepared))
    try:
        _record(engine, ready, as_of, report, outcomes)
    except INGEST_ERRORS:
        for item in ready:
            try:
                _record(engine, [item], as_of, report, outcomes)
            except INGEST_ERRORS as error:
                outcomes[item[0]] = _rejected(engine, report, item[0], item[1].raw, error, as_of)
    return report, [outcomes[number] for number, _ in rows]


def _record(
    engine: Engine, ready: list[tuple[int, Prepared]], as_of: date, report: IngestReport,
    outcomes: dict[int, EventOutcome],
) -> None:
    """One transaction for the batch; the report and outcomes change only once it committed."""
    if not ready:
        return
    tally = IngestReport()
    with session_scope(engine) as session:
        new_ids = repo.insert_new_events(session, [_event_row(p) for _, p in ready])
        fresh = [(n, p) for n, p in ready if p.identity in new_ids]
        _write_records(session, [p for _, p in fresh])
        effects: list[Effect] = []
        for _, prepared in fresh:
            effects += decide_event({**prepared.fact, "event_row": new_ids[prepared.identity]})
        for correlation in sorted({p.correlation for _, p in fresh if p.correlation}):
            effects += decide_bundle(correlation, repo.bundle_facts(session, correlation))
        tally.suspended_grants = apply_effects(session, effects, as_of)
        tally.bundles_completed = sum(e.action == "bundle_complete" for e in effects)
        tally.reevaluations = sum(len(e.subject_keys) for e in effects if e.action == "reevaluate")
    for number, prepared in ready:
        status: OutcomeStatus = "accepted" if prepared.identity in new_ids else "duplicate"
        outcomes[number] = _outcome(number, prepared.raw, status)
    tally.accepted = len(fresh)
    tally.duplicates = len(ready) - len(fresh)
    for name in ("accepted", "duplicates", "bundles_completed", "reevaluations",
                 "suspended_grants"):
        setattr(report, name, getattr(report, name) + getattr(tally, name))


def _event_row(prepared: Prepared) -> dict[str, Any]:
    event = prepared.event
    return {
        "source_dept": event.source_dept.value, "event_id": event.event_id,
        "kind": event.kind.value, "subject_kind": prepared.subject_kind,
        "subject_key": prepared.subject_key, "correlation_key": prepared.correlation,
        "occurred_on": event.occurred_on, "payload_enc": keyring().encrypt_json(prepared.raw),
        "fact": json.dumps(prepared.fact, sort_keys=True), "status": "accepted",
        "error": None, "received_at": utcnow(),
    }


def _write_records(session: Session, fresh: list[Prepared]) -> None:
    connection = session.connection()
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for prepared in fresh:
        if prepared.event.kind is EventKind.ENTERPRISE_DEREGISTERED:
            deregister_enterprise(connection, prepared.event.record, "deregistered")
        else:
            by_dataset.setdefault(prepared.dataset, []).append(prepared.row)
    for name in sorted(by_dataset):
        upsert_rows(connection, name, by_dataset[name])


def _outcome(
    number: int, raw: Any, status: OutcomeStatus, reason: str | None = None
) -> EventOutcome:
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    return EventOutcome(row=number, event_id=str(event_id)[:64] if event_id else None,
                        status=status, reason=reason)


def _rejected(
    engine: Engine, report: IngestReport, number: int, raw: Any, error: Exception, as_of: date
) -> EventOutcome:
    reason = safe_reason(error)
    report.rejected += 1
    report.errors.append(f"line {number}: {reason}")
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
    _reject(engine, number, text, reason, as_of)
    return _outcome(number, raw, "rejected", reason)


def _reject(engine: Engine, line_no: int, raw_text: str, reason: str, as_of: date) -> None:
    """Keep a bad event (encrypted, it may hold personal data) with its reason."""
    digest = hashlib.sha256(raw_text.encode()).hexdigest()[:64]
    with session_scope(engine) as session:
        if repo.find_event(session, "rejected", digest) is None:
            session.add(LifeEvent(
                source_dept="rejected", event_id=digest, kind="invalid", subject_kind="",
                subject_key="", occurred_on=as_of,
                payload_enc=keyring().encrypt_json({"line": line_no, "raw": raw_text}),
                status="rejected", error=reason[:2000], received_at=utcnow(),
            ))


def ingest_lines(
    engine: Engine, lines: Iterable[str], as_of: date, chunk: int = 500
) -> IngestReport:
    """Ingest JSONL lines, up to ``chunk`` events per transaction."""
    report = IngestReport()
    pending: list[Row] = []
    for line_no, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            pending.append((line_no, json.loads(text)))
        except ValueError as error:
            _rejected(engine, report, line_no, text, error, as_of)
    for start in range(0, len(pending), chunk):
        part, _ = ingest_batch(engine, pending[start : start + chunk], as_of)
        for name in ("accepted", "duplicates", "rejected", "bundles_completed",
                     "reevaluations", "suspended_grants"):
            setattr(report, name, getattr(report, name) + getattr(part, name))
        report.errors += part.errors
    return report


def daily_tick(engine: Engine, as_of: date) -> int:
    """Raise reminders for birth bundles still incomplete 30 days after the certificate."""
    raised = 0
    with session_scope(engine) as session:
        pending = repo.unbundled_birth_certificates(session)
    for certificate_no in pending:
        with session_scope(engine) as session:
            effects = decide_bundle(certificate_no, repo.bundle_facts(session, certificate_no),
                                    tick_day=ymd(as_of))
            apply_effects(session, effects, as_of)
            raised += sum(e.action == "remind" for e in effects)
    return raised
