"""The life-event exchange format (one JSON object per line for ``mianshen events ingest``):

    {"event_id": "H-2025-000123", "kind": "death", "source_dept": "health",
     "occurred_on": "2025-12-20", "record": {"id_number": "4406...", "date_of_death": "2025-12-20",
     "source_kind": "hospital", "as_of": "2025-12-21"}}

``record`` is a row of the event's dataset in the data catalog's exchange schema (personal
values in clear, as departments send them; they are encrypted on arrival). A newborn's 户籍
registration carries the birth certificate number it is registered with
(``certificate_no``), which correlates it with the birth certificate.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.datahub.catalog import Department


class EventKind(StrEnum):
    BIRTH_CERTIFICATE = "birth_certificate"
    HUKOU_REGISTRATION = "hukou_registration"  # a newborn's first 户籍 registration
    DEATH = "death"
    MARRIAGE = "marriage"
    PREGNANCY = "pregnancy"
    HUKOU_MOVE = "hukou_move"
    ENTERPRISE_REGISTERED = "enterprise_registered"
    ENTERPRISE_DEREGISTERED = "enterprise_deregistered"


# The dataset each kind's record belongs to.
EVENT_DATASETS: dict[EventKind, str] = {
    EventKind.BIRTH_CERTIFICATE: "birth_certificate",
    EventKind.HUKOU_REGISTRATION: "person",
    EventKind.DEATH: "death_record",
    EventKind.MARRIAGE: "marriage_registration",
    EventKind.PREGNANCY: "pregnancy_registration",
    EventKind.HUKOU_MOVE: "hukou_move",
    EventKind.ENTERPRISE_REGISTERED: "enterprise",
    EventKind.ENTERPRISE_DEREGISTERED: "enterprise",
}


class EventIn(BaseModel):
    event_id: str = Field(min_length=1, max_length=64)
    kind: EventKind
    source_dept: Department
    occurred_on: date
    record: dict[str, Any]
    certificate_no: str | None = Field(default=None, max_length=40)


class IngestReport(BaseModel):
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    suspended_grants: int = 0
    bundles_completed: int = 0
    reevaluations: int = 0
    errors: list[str] = Field(default_factory=list)  # "line N: reason" (no personal data)


OutcomeStatus = Literal["accepted", "duplicate", "rejected"]


class EventOutcome(BaseModel):
    """What became of one pushed event: ``row`` is its line number (file) or index (API)."""

    row: int
    event_id: str | None = None
    status: OutcomeStatus
    reason: str | None = None  # why it was rejected (field names and problems, never values)


class PushIn(BaseModel):
    """A department's batch of life events (``POST /api/v1/events``)."""

    events: list[Any] = Field(min_length=1, max_length=1000)  # each one checked on its own


class PushResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    suspended_grants: int
    results: list[EventOutcome]
