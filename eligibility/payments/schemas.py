"""Shapes the payments ledger is reported in over the API: a ledger row and a period's batch."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from eligibility.payments.models import Payment, PaymentBatch


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


class BatchView(BaseModel):
    id: int
    period: str
    sha256: str
    payment_count: int
    total_fen: int
    created_at: datetime

    @classmethod
    def of(cls, batch: PaymentBatch) -> BatchView:
        return cls.model_validate(batch, from_attributes=True)
