"""Shapes the payments ledger is reported in over the API: a ledger row and a period's batch
(with the payments held out of it and why)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from eligibility.payments.batch import held_totals
from eligibility.payments.models import Payment, PaymentBatch
from eligibility.payments.payees import HELD_REASONS_ZH


class PaymentView(BaseModel):
    id: int
    grant_id: int
    policy_id: str
    subject_key: str
    period: str
    kind: str
    amount_fen: int
    status: str
    back_pay: bool
    legacy_ref: str | None
    batch_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, payment: Payment) -> PaymentView:
        return cls.model_validate(payment, from_attributes=True)


class HeldView(BaseModel):
    """Payments held out of a batch for one reason (they stay due for a later batch)."""

    reason: str
    reason_zh: str
    payments: int
    amount_fen: int


class BatchView(BaseModel):
    id: int
    period: str
    sha256: str
    payment_count: int
    total_fen: int
    held_count: int
    held_fen: int
    held: list[HeldView]
    created_at: datetime

    @classmethod
    def of(cls, batch: PaymentBatch) -> BatchView:
        held = [HeldView(reason=reason, reason_zh=HELD_REASONS_ZH.get(reason, reason),
                         payments=count, amount_fen=fen)
                for reason, (count, fen) in sorted(held_totals(batch).items())]
        return cls(id=batch.id or 0, period=batch.period, sha256=batch.sha256,
                   payment_count=batch.payment_count, total_fen=batch.total_fen,
                   held_count=batch.held_count, held_fen=batch.held_fen, held=held,
                   created_at=batch.created_at)
