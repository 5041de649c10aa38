"""Checking one life event before any database work: the exchange format (``EventIn``), the
record's storage row (ID numbers become pseudonymous keys, personal values encrypted) and the
fact the rulesets see. A bad event raises one of ``INGEST_ERRORS``; its reason, from
:func:`safe_reason`, names fields and problems but never echoes the values sent.

Nothing here touches the database; ``service`` records and applies prepared events in batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from stdnum.cn import uscc

from app.datahub.catalog import dataset
from app.errors import MianshenError, ValidationFailed
from eligibility.events.records import storage_row
from eligibility.events.schemas import EVENT_DATASETS, EventIn, EventKind

REMIND_AFTER_DAYS = 30
INGEST_ERRORS = (ValueError, ValidationError, MianshenError, IntegrityError)


@dataclass
class Prepared:
    """One valid event, ready to be recorded."""

    raw: dict[str, Any]
    event: EventIn
    row: dict[str, Any]  # storage row of its record (for a deregistration: just the USCC)
    subject_kind: str
    subject_key: str
    fact: dict[str, Any]  # the rules' view: pseudonymous keys only, explicit unique ``id``

    @property
    def identity(self) -> tuple[str, str]:
        return self.event.source_dept.value, self.event.event_id

    @property
    def dataset(self) -> str:
        return EVENT_DATASETS[self.event.kind]

    @property
    def correlation(self) -> str | None:
        return self.fact.get("certificate_no") or None


def ymd(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def prepare(raw: Any, department: str | None = None) -> Prepared:
    """Validate one event (from ``department`` only, when given: the caller's API key is bound
    to it); raises one of ``INGEST_ERRORS``."""
    if not isinstance(raw, dict):
        raise ValueError("an event must be a JSON object")
    event = EventIn.model_validate(raw)
    if department is not None and event.source_dept.value != department:
        raise ValidationFailed("source_dept: not the API key's department")
    if event.kind is EventKind.ENTERPRISE_DEREGISTERED:
        code = str(event.record.get("uscc", "")).strip().upper()
        if not uscc.is_valid(code):
            raise ValidationFailed("enterprise.uscc is not a valid USCC")
        row: dict[str, Any] = {"uscc": code}
    else:
        row = storage_row(dataset(EVENT_DATASETS[event.kind]), event.record,
                          event.source_dept.value)
    subject_kind, subject_key, fact = _record_subject(event, row)
    fact["id"] = f"life-{event.source_dept.value}-{event.event_id}"  # unique: its identity
    return Prepared(raw, event, row, subject_kind, subject_key, fact)


def _record_subject(event: EventIn, row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Subject kind, subject key and the fact the rules see (pseudonymous keys only)."""
    fact: dict[str, Any] = {"kind": event.kind.value, "occurred_on": event.occurred_on.isoformat()}
    if event.kind in (EventKind.ENTERPRISE_REGISTERED, EventKind.ENTERPRISE_DEREGISTERED):
        fact["subject_key"] = row["uscc"]
        return "enterprise", row["uscc"], fact
    if event.kind is EventKind.BIRTH_CERTIFICATE:
        fact.update(certificate_no=row["certificate_no"], mother_key=row["mother_key"],
                    father_key=row.get("father_key") or "", subject_key=row["mother_key"],
                    remind_from=ymd(event.occurred_on + timedelta(days=REMIND_AFTER_DAYS)))
        return "person", row["mother_key"], fact
    if event.kind is EventKind.MARRIAGE:
        fact.update(subject_key=row["party_a_key"], other_key=row["party_b_key"])
        return "person", row["party_a_key"], fact
    fact["subject_key"] = row["subject_key"]
    if event.kind is EventKind.HUKOU_REGISTRATION:
        fact["certificate_no"] = event.certificate_no or ""
    return "person", row["subject_key"], fact


def safe_reason(error: Exception) -> str:
    """A reason that names fields and problems but never echoes the values sent."""
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in error.errors())
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON ({error.msg})"
    if isinstance(error, IntegrityError):
        return "conflicts with data already held"
    return str(error)
