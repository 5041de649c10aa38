"""Shapes grants are reported in (CLI ``--json``, API): a grant with its history, amount
schedule, ledger, recovery items and the provenance of its current decision."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from eligibility.grants.models import Decision, Grant, GrantAmount, GrantEvent, ReviewItem
from eligibility.payments.models import Payment, RecoveryItem


class GrantSummary(BaseModel):
    id: int
    policy_id: str
    subject_kind: str
    subject_key: str
    episode: int
    state: str
    benefit_kind: str
    tier: str | None
    amount_fen: int | None
    start_period: str | None
    start_date: date
    end_date: date | None
    end_reason: str | None
    review_flags: str

    @classmethod
    def of(cls, grant: Grant) -> GrantSummary:
        return cls.model_validate(grant, from_attributes=True)


class DecisionProvenance(BaseModel):
    id: int
    policy_id: str
    policy_version: str
    as_of: date
    eligible: bool
    tier: str | None
    amount_fen: int | None
    flags: str
    parameters: dict[str, Any]
    inputs_hash: str
    explanation: dict[str, Any]
    engine_version: str
    sweep_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, decision: Decision) -> DecisionProvenance:
        values = decision.model_dump()
        values["parameters"] = json.loads(decision.parameters)
        values["explanation"] = json.loads(decision.explanation)
        return cls.model_validate(values)


class GrantDetail(GrantSummary):
    events: list[dict[str, Any]] = Field(default_factory=list)
    amounts: list[dict[str, Any]] = Field(default_factory=list)
    payments: list[dict[str, Any]] = Field(default_factory=list)
    recoveries: list[dict[str, Any]] = Field(default_factory=list)
    decision: DecisionProvenance | None = None

    @classmethod
    def build(
        cls, grant: Grant, events: list[GrantEvent], amounts: list[GrantAmount],
        payments: list[Payment], recoveries: list[RecoveryItem], decision: Decision | None,
    ) -> GrantDetail:
        detail = cls.model_validate(GrantSummary.of(grant).model_dump())
        detail.events = [e.model_dump(exclude={"grant_id"}) for e in events]
        detail.amounts = [
            a.model_dump(include={"from_period", "amount_fen", "tier"}) for a in amounts
        ]
        detail.payments = [
            p.model_dump(include={"id", "period", "kind", "amount_fen", "status", "back_pay",
                                  "legacy_ref", "batch_id"}) for p in payments
        ]
        detail.recoveries = [
            r.model_dump(include={"id", "period", "amount_fen", "reason", "status"})
            for r in recoveries
        ]
        detail.decision = DecisionProvenance.of(decision) if decision else None
        return detail


class DecisionView(DecisionProvenance):
    """A decision as staff see it: provenance plus whom it concerns and whether it is current."""

    subject_kind: str
    subject_key: str
    seq: int
    is_current: bool

    @classmethod
    def of(cls, decision: Decision) -> DecisionView:
        values = DecisionProvenance.of(decision).model_dump()
        values.update(subject_kind=decision.subject_kind, subject_key=decision.subject_key,
                      seq=decision.seq, is_current=decision.is_current)
        return cls.model_validate(values)


class ReviewItemView(BaseModel):
    id: int
    grant_id: int
    kind: str
    reasons: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    officer: str | None
    note: str | None

    @classmethod
    def of(cls, item: ReviewItem) -> ReviewItemView:
        return cls.model_validate(item, from_attributes=True)


class ReviewDecisionRequest(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=2000)
