"""Tables of decisions and grants: ``decision`` (one row per changed outcome, with provenance),
``benefit_grant`` (``grant`` is an SQL keyword), ``grant_event`` (every state change with its
time and reason), ``grant_amount`` (the amount schedule: re-tiering adds a row effective from a
period), ``review_item`` (the manual review queue), ``objection`` (public-notice objections)
and ``automation_refusal`` (citizens who refused purely automated decisions, PIPL art. 24).

Payments are in ``eligibility.payments.models``; queries are in ``repository``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Decision(SQLModel, table=True):
    """An evaluated outcome of one policy for one subject. A new row only when the outcome
    (eligible, tier, amount) differs from the current one; ``is_current`` marks the latest."""

    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("policy_id", "subject_key", "seq"),
        Index(
            "ux_decision_current", "policy_id", "subject_key", unique=True,
            sqlite_where=text("is_current"), postgresql_where=text("is_current"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=64)
    policy_version: str = Field(max_length=64)
    subject_kind: str = Field(max_length=16)
    subject_key: str = Field(max_length=32, index=True)
    seq: int
    is_current: bool
    as_of: date
    eligible: bool
    tier: str | None = Field(default=None, max_length=64)
    amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    flags: str = Field(default="", max_length=200)  # comma-separated review flags
    parameters: str = Field(sa_column=Column(Text, nullable=False))  # JSON: values used
    inputs_hash: str = Field(max_length=64)  # SHA-256 of ``inputs``
    inputs: str = Field(sa_column=Column(Text, nullable=False))  # JSON snapshot of the inputs
    explanation: str = Field(sa_column=Column(Text, nullable=False))  # JSON: condition values
    engine_version: str = Field(max_length=32)
    sweep_id: int | None = Field(default=None, index=True)
    created_at: datetime


class Grant(SQLModel, table=True):
    """A benefit matched to a subject. ``episode`` counts grants of the same policy to the same
    subject (a new one may start after an earlier one ended); at most one is open."""

    __tablename__ = "benefit_grant"
    __table_args__ = (
        UniqueConstraint("policy_id", "subject_key", "episode"),
        Index(
            "ux_benefit_grant_open", "policy_id", "subject_key", unique=True,
            sqlite_where=text("is_open"), postgresql_where=text("is_open"),
        ),
        Index("ix_benefit_grant_state_paid_through", "state", "paid_through"),
    )
    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=64)
    policy_version: str = Field(max_length=64)
    subject_kind: str = Field(max_length=16)
    subject_key: str = Field(max_length=32, index=True)
    payee_key: str | None = Field(default=None, max_length=32)  # a child's guardian; else None
    episode: int
    state: str = Field(max_length=24)
    is_open: bool
    benefit_kind: str = Field(max_length=24)
    benefit_code: str = Field(max_length=64)  # code legacy systems pay this benefit under
    period_kind: str = Field(max_length=8)  # month, year, once, none
    amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    tier: str | None = Field(default=None, max_length=64)
    decision_id: int | None = None
    start_period: str | None = Field(default=None, max_length=7)  # first period payable
    start_date: date
    end_date: date | None = None
    end_reason: str | None = Field(default=None, max_length=32)
    process_steps: str = Field(default="", max_length=120)  # comma-separated remaining steps
    notice_started_on: date | None = None
    notice_ends_on: date | None = None
    notice_remaining_days: int | None = None
    review_flags: str = Field(default="", max_length=200)
    paid_through: str | None = Field(default=None, max_length=7)
    created_at: datetime
    updated_at: datetime


class GrantEvent(SQLModel, table=True):
    """One state change of a grant (or an amount change while granted), timestamped, with its
    reason; ``effective_date`` is the business date it takes effect."""

    __tablename__ = "grant_event"
    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(index=True)
    from_state: str | None = Field(default=None, max_length=24)
    to_state: str = Field(max_length=24)
    reason: str = Field(max_length=48)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    effective_date: date
    actor: str = Field(max_length=64)
    decision_id: int | None = None
    at: datetime


class GrantAmount(SQLModel, table=True):
    """The amount schedule of a recurring grant: ``amount_fen`` applies from ``from_period``."""

    __tablename__ = "grant_amount"
    __table_args__ = (UniqueConstraint("grant_id", "from_period"),)
    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(index=True)
    from_period: str = Field(max_length=7)
    amount_fen: int = Field(sa_type=BigInteger)
    tier: str | None = Field(default=None, max_length=64)
    decision_id: int | None = None
    created_at: datetime


class ReviewItem(SQLModel, table=True):
    """A flagged grant waiting for an officer; the officer's decision is recorded here."""

    __tablename__ = "review_item"
    __table_args__ = (
        Index(
            "ux_review_item_open", "grant_id", unique=True,
            sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(index=True)
    kind: str = Field(max_length=24)  # flagged (manual review) or internal (process step)
    reasons: str = Field(default="", max_length=200)
    status: str = Field(max_length=16)  # open, approved, rejected
    created_at: datetime
    decided_at: datetime | None = None
    officer: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, sa_column=Column(Text))


class Objection(SQLModel, table=True):
    """An objection raised during a public notice; it pauses the notice window."""

    __tablename__ = "objection"
    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(index=True)
    filed_on: date
    filed_at: datetime
    text_enc: str = Field(sa_column=Column(Text, nullable=False))  # encrypted: may be personal
    status: str = Field(max_length=16)  # open, dismissed, upheld
    resolved_on: date | None = None
    officer: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, sa_column=Column(Text))


class AutomationRefusal(SQLModel, table=True):
    """A citizen's refusal of purely automated decisions (PIPL art. 24): their grants go to
    the manual review queue."""

    __tablename__ = "automation_refusal"
    subject_key: str = Field(primary_key=True, max_length=32)
    refused_at: datetime
