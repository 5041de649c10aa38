"""All queries of life events, bundles, follow-up tasks and re-evaluation requests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.datahub.models import BirthCertificate
from eligibility.events.models import EventBundle, EventTask, LifeEvent, ReevaluationRequest
from eligibility.grants.bulk import utcnow


def find_event(session: Session, source_dept: str, event_id: str) -> LifeEvent | None:
    statement = select(LifeEvent).where(
        col(LifeEvent.source_dept) == source_dept, col(LifeEvent.event_id) == event_id
    )
    return session.exec(statement).first()


EVENT_COLUMNS = {  # column -> PostgreSQL array type for the unnest insert
    "source_dept": "text", "event_id": "text", "kind": "text", "subject_kind": "text",
    "subject_key": "text", "correlation_key": "text", "occurred_on": "date",
    "payload_enc": "text", "fact": "text", "status": "text", "error": "text",
    "received_at": "timestamptz",
}
_UNNEST_INSERT = text(
    f"INSERT INTO life_event ({', '.join(EVENT_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in EVENT_COLUMNS.items())
    + ") ON CONFLICT (source_dept, event_id) DO NOTHING RETURNING id, source_dept, event_id"
)


def insert_new_events(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert life events, skipping any (department, event id) already held, in one statement;
    returns the ids of the rows this call inserted. Re-delivered or concurrently delivered
    events are therefore recorded, and acted on, exactly once."""
    if not rows:
        return {}
    connection = session.connection()
    ordered = sorted(rows, key=lambda r: (r["source_dept"], r["event_id"]))  # one lock order
    if connection.dialect.name == "postgresql":  # one short statement whatever the batch size
        inserted = connection.execute(
            _UNNEST_INSERT, {c: [row[c] for row in ordered] for c in EVENT_COLUMNS})
    else:
        table = LifeEvent.__table__  # type: ignore[attr-defined]
        statement = (
            sqlite_insert(table)
            .on_conflict_do_nothing(index_elements=["source_dept", "event_id"])
            .returning(table.c.id, table.c.source_dept, table.c.event_id)
        )
        inserted = connection.execute(statement, ordered)
    return {(dept, event_id): row_id for row_id, dept, event_id in inserted}


def bundle_facts(session: Session, certificate_no: str) -> list[dict[str, Any]]:
    statement = select(LifeEvent).where(
        col(LifeEvent.correlation_key) == certificate_no, col(LifeEvent.status) == "accepted",
        col(LifeEvent.kind).in_(["birth_certificate", "hukou_registration"]),
    )
    return [json.loads(e.fact) for e in session.exec(statement.order_by(col(LifeEvent.id))).all()]


def bundle(session: Session, kind: str, correlation_key: str) -> EventBundle | None:
    statement = select(EventBundle).where(
        col(EventBundle.kind) == kind, col(EventBundle.correlation_key) == correlation_key
    )
    return session.exec(statement).first()


def task(session: Session, kind: str, correlation_key: str) -> EventTask | None:
    statement = select(EventTask).where(
        col(EventTask.kind) == kind, col(EventTask.correlation_key) == correlation_key
    )
    return session.exec(statement).first()


def unbundled_birth_certificates(session: Session) -> list[str]:
    """Certificate numbers whose bundle is not complete and that have no reminder yet."""
    bundled = select(EventBundle.correlation_key).where(col(EventBundle.kind) == "birth")
    reminded = select(EventTask.correlation_key).where(
        col(EventTask.kind) == "birth_registration_missing"
    )
    statement = select(LifeEvent.correlation_key).where(
        col(LifeEvent.kind) == "birth_certificate", col(LifeEvent.status) == "accepted",
        col(LifeEvent.correlation_key).not_in(bundled),
        col(LifeEvent.correlation_key).not_in(reminded),
    )
    return sorted({key for key in session.exec(statement.distinct()).all() if key})


def request_reevaluations(session: Session, requests: Sequence[tuple[str, str, str]]) -> int:
    """Ask the next sweep to evaluate these (subject kind, key, reason) again; one statement."""
    if requests:
        now = utcnow()
        table = ReevaluationRequest.__table__  # type: ignore[attr-defined]
        session.connection().execute(insert(table), [
            {"subject_kind": kind, "subject_key": key, "reason": reason, "requested_at": now,
             "sweep_id": None}
            for kind, key, reason in requests
        ])
    return len(requests)


def certificates_of_children(session: Session, child_keys: Sequence[str]) -> dict[str, str]:
    """Birth certificate number -> child key, for these children (a child's grants are keyed
    by its certificate)."""
    if not child_keys:
        return {}
    table = BirthCertificate.__table__  # type: ignore[attr-defined]
    statement = select(table.c.certificate_no, table.c.child_key).where(
        table.c.child_key.in_(sorted(set(child_keys))))
    return {number: child for number, child in session.connection().execute(statement)}


def open_tasks(session: Session) -> list[EventTask]:
    statement = select(EventTask).where(col(EventTask.status) == "open")
    return list(session.exec(statement.order_by(col(EventTask.id))).all())
