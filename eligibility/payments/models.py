"""Ledger tables: ``payment`` (unique per grant, period and kind; integer fen), ``recovery_item``
(an overpayment to recover, one per payment at most) and ``payment_batch`` (one per period, with
the file's SHA-256). Logic is in ``service``; queries in ``repository``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Payment(SQLModel, table=True):
    """``kind`` is ``regular`` (the period's amount; at most one per grant and period) or
    ``top_up`` (a later increase for a period already paid). ``status``: ``due`` (not yet in a
    batch), ``held`` (grant suspended), ``batched`` (in a payment file: money out),
    ``cancelled`` (never paid), ``legacy`` (a legacy system already paid this period)."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("grant_id", "period", "kind"),
        Index("ix_payment_status_period", "status", "period"),
    )
    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(index=True)
    policy_id: str = Field(max_length=64)
    subject_key: str = Field(max_length=32, index=True)
    period: str = Field(max_length=7)
    kind: str = Field(max_length=8)
    amount_fen: int = Field(sa_type=BigInteger)
    status: str = Field(max_length=12)
    back_pay: bool = False
    legacy_ref: str | None = Field(default=None, max_length=64)
    batch_id: int | None = Field(default=None, index=True)
    created_at: datetime
    updated_at: datetime


class RecoveryItem(SQLModel, table=True):
    """Money paid that was not due (a period after the end date, or a lowered amount)."""

    __tablename__ = "recovery_item"
    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(unique=True)
    grant_id: int = Field(index=True)
    subject_key: str = Field(max_length=32, index=True)
    period: str = Field(max_length=7)
    amount_fen: int = Field(sa_type=BigInteger)
    reason: str = Field(max_length=48)
    status: str = Field(max_length=16)  # open, recovered, waived
    created_at: datetime


class PaymentBatch(SQLModel, table=True):
    """The payment file of a period: re-running the batch returns this row, never a second."""

    __tablename__ = "payment_batch"
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7, unique=True)
    file_name: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    payment_count: int
    total_fen: int = Field(sa_type=BigInteger)
    created_at: datetime
    # 1: payee by key only (batches made before bank accounts); 2: with the confirmed account.
    format_version: int = 1
    # Payments held out of the batch (still due, for a later batch): count, amount and, as
    # JSON, reason -> [payments, amount_fen]. Stored so a re-run renders the same file.
    held_count: int = 0
    held_fen: int = Field(default=0, sa_type=BigInteger)
    held_reasons: str = Field(default="{}", max_length=2000)
