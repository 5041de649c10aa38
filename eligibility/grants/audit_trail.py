"""The grant pipeline's entries in the audit log (``app.audit``): every decision, every grant
state change (each ``grant_event`` row) and every ledger write (payment rows, their corrections
and cancellations, recovery items).

A unit of work (a sweep shard, an event, an officer's action) collects compact rows here as it
writes, and :meth:`AuditTrail.append` hands them to ``app.audit.service.append_many`` at the end,
just before the caller commits: the log's head lock is held only for those last moments, and a
unit of work that rolls back (a killed worker) leaves no entry behind. Entries carry ids and
hashes only (pseudonymous subject keys, no personal data); ``(kind, record_id)`` makes appending
again a no-op, so re-running is safe.

Record ids: a decision's id, a grant event's id, a payment's id; a later change of a payment is
``<id>:<status>:<amount>``; a recovery item is ``recovery-<id>``.

Subjects are named by their pseudonymous key (32 hex characters); an enterprise, whose key is its
18-character unified social credit code, as ``uscc:<code>``: some codes pass as resident ID
numbers, which the log's personal-data guard rightly refuses to store bare.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import polars as pl
from sqlmodel import Session

from app.audit.schemas import EntryKind
from app.audit.service import append_many
from eligibility.grants.models import GrantEvent

APPEND_CHUNK = 20_000  # entries per append_many call (bounds the payload dicts held at once)

DECISION_COLUMNS = (
    "id", "policy_id", "policy_version", "subject_kind", "subject_key", "as_of", "parameters",
    "inputs_hash", "engine_version", "eligible", "tier", "amount_fen", "explanation_hash",
)
EVENT_COLUMNS = (
    "id", "grant_id", "policy_id", "subject_key", "from_state", "to_state", "reason",
    "effective_date", "decision_id",
)
PAYMENT_COLUMNS = (
    "record_id", "payment_id", "grant_id", "policy_id", "subject_key", "period", "amount_fen",
    "payment_kind", "status",
)


USCC_LENGTH = 18


def logged_subject(key: str | None) -> str | None:
    """How the log names a subject (see the module docstring)."""
    if key is not None and len(key) == USCC_LENGTH:
        return f"uscc:{key}"
    return key


@lru_cache(maxsize=256)
def _parameters(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value


def _decision_payloads(frame: pl.DataFrame) -> Iterator[tuple[EntryKind, dict[str, Any]]]:
    for row in frame.select(DECISION_COLUMNS).iter_rows():
        (ident, policy_id, version, kind, key, as_of, parameters, inputs_hash, engine, eligible,
         tier, amount, explanation_hash) = row
        yield EntryKind.DECISION, {
            "record_id": str(ident), "policy_id": policy_id, "policy_version_hash": version,
            "subject_kind": kind, "subject_key": logged_subject(key), "as_of": as_of,
            "parameters": _parameters(parameters), "input_snapshot_hash": inputs_hash,
            "input_snapshot_ref": f"decision:{ident}", "engine_version": engine,
            "result": {"eligible": eligible, "tier": tier, "amount_fen": amount},
            "explanation_hash": explanation_hash,
        }


def _event_payloads(frame: pl.DataFrame) -> Iterator[tuple[EntryKind, dict[str, Any]]]:
    for row in frame.select(EVENT_COLUMNS).iter_rows():
        ident, grant_id, policy_id, key, from_state, to_state, reason, effective, decision = row
        yield EntryKind.GRANT_STATE, {
            "record_id": str(ident), "grant_id": str(grant_id), "policy_id": policy_id,
            "subject_key": logged_subject(key), "from_state": from_state, "to_state": to_state,
            "reason": reason, "effective_date": effective,
            "decision_record_id": None if decision is None else str(decision),
        }


def _payment_payloads(frame: pl.DataFrame) -> Iterator[tuple[EntryKind, dict[str, Any]]]:
    for row in frame.select(PAYMENT_COLUMNS).iter_rows():
        record, payment, grant_id, policy_id, key, period, amount, kind, status = row
        yield EntryKind.PAYMENT, {
            "record_id": record, "payment_id": str(payment), "grant_id": str(grant_id),
            "policy_id": policy_id, "subject_key": logged_subject(key), "period": period,
            "amount_fen": amount,
            "payment_kind": kind, "status": status,
        }


@dataclass
class AuditTrail:
    """What one unit of work has written and must log, in the order it is logged."""

    decisions: list[pl.DataFrame] = field(default_factory=list)
    events: list[pl.DataFrame] = field(default_factory=list)
    orm_events: list[tuple[GrantEvent, str, str]] = field(default_factory=list)
    payments: list[pl.DataFrame] = field(default_factory=list)

    def add_decisions(self, frame: pl.DataFrame) -> None:
        if not frame.is_empty():
            self.decisions.append(frame.select(DECISION_COLUMNS))

    def add_events(self, frame: pl.DataFrame) -> None:
        if not frame.is_empty():
            self.events.append(frame.select(EVENT_COLUMNS))

    def add_event_rows(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.add_events(pl.DataFrame(
                [{column: row.get(column) for column in EVENT_COLUMNS} for row in rows],
                schema=_EVENT_SCHEMA,
            ))

    def add_orm_event(self, event: GrantEvent, policy_id: str, subject_key: str) -> None:
        """An event added through the session: its id is known once the session flushes."""
        self.orm_events.append((event, policy_id, subject_key))

    def add_payments(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.payments.append(pl.DataFrame(
                [{column: row.get(column) for column in PAYMENT_COLUMNS} for row in rows],
                schema=_PAYMENT_SCHEMA,
            ))

    def __len__(self) -> int:
        frames = (*self.decisions, *self.events, *self.payments)
        return sum(frame.height for frame in frames) + len(self.orm_events)

    def _items(self) -> Iterator[tuple[EntryKind, dict[str, Any]]]:
        for frame in self.decisions:
            yield from _decision_payloads(frame)
        orm = [
            {"id": event.id, "grant_id": event.grant_id, "policy_id": policy_id,
             "subject_key": key, "from_state": event.from_state, "to_state": event.to_state,
             "reason": event.reason, "effective_date": event.effective_date,
             "decision_id": event.decision_id}
            for event, policy_id, key in self.orm_events
        ]
        self.add_event_rows(orm)
        for frame in self.events:
            yield from _event_payloads(frame)
        for frame in self.payments:
            yield from _payment_payloads(frame)

    def append(self, session: Session) -> int:
        """Append everything collected to the audit log (caller's transaction); returns how
        many entries were handed over. The trail is empty afterwards."""
        session.flush()  # ORM-added events get their ids
        count = 0
        chunk: list[tuple[EntryKind, dict[str, Any]]] = []
        for item in self._items():
            chunk.append(item)
            if len(chunk) == APPEND_CHUNK:
                append_many(session, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            append_many(session, chunk)
            count += len(chunk)
        self.decisions, self.events, self.orm_events, self.payments = [], [], [], []
        return count


_EVENT_SCHEMA = {
    "id": pl.Int64, "grant_id": pl.Int64, "policy_id": pl.String, "subject_key": pl.String,
    "from_state": pl.String, "to_state": pl.String, "reason": pl.String,
    "effective_date": pl.Date, "decision_id": pl.Int64,
}
_PAYMENT_SCHEMA = {
    "record_id": pl.String, "payment_id": pl.Int64, "grant_id": pl.Int64, "policy_id": pl.String,
    "subject_key": pl.String, "period": pl.String, "amount_fen": pl.Int64,
    "payment_kind": pl.String, "status": pl.String,
}
