"""Tables of life events: ``life_event`` (every event received, unique per source department and
the department's event id; personal payload encrypted), ``event_bundle`` (a completed
cross-department correlation such as the birth bundle), ``event_task`` (a follow-up for an
officer or community worker, e.g. the 户籍 registration still missing 30 days after a birth) and
``reevaluation_request`` (subjects an event asks the next sweep to evaluate again)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class LifeEvent(SQLModel, table=True):
    __tablename__ = "life_event"
    __table_args__ = (
        UniqueConstraint("source_dept", "event_id"),
        Index("ix_life_event_correlation", "kind", "correlation_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source_dept: str = Field(max_length=40)
    event_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    subject_kind: str = Field(max_length=16)
    subject_key: str = Field(max_length=32, index=True)
    correlation_key: str | None = Field(default=None, max_length=64)
    occurred_on: date
    payload_enc: str = Field(sa_column=Column(Text, nullable=False))
    fact: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # rules' view, no PII
    status: str = Field(max_length=16)  # accepted, rejected (kept with its reason, never lost)
    error: str | None = Field(default=None, sa_column=Column(Text))
    received_at: datetime


class EventBundle(SQLModel, table=True):
    __tablename__ = "event_bundle"
    __table_args__ = (UniqueConstraint("kind", "correlation_key"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    correlation_key: str = Field(max_length=64)
    event_ids: str = Field(max_length=200)  # life_event ids, comma-separated
    completed_on: date
    created_at: datetime


class EventTask(SQLModel, table=True):
    __tablename__ = "event_task"
    __table_args__ = (UniqueConstraint("kind", "correlation_key"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=48)
    correlation_key: str = Field(max_length=64)
    subject_key: str = Field(max_length=32, index=True)
    due_on: date
    status: str = Field(max_length=16)  # open, done
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime


class ReevaluationRequest(SQLModel, table=True):
    __tablename__ = "reevaluation_request"
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=16)
    subject_key: str = Field(max_length=32, index=True)
    reason: str = Field(max_length=48)
    requested_at: datetime
    sweep_id: int | None = Field(default=None, index=True)  # the sweep that handled it
