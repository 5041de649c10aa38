"""The verification call log (核验调用日志): one row per verification call, written in batches by
``call_log``. No queried value is kept in clear: ``subject_hash`` is the keyed hash of the ID
number or USCC asked about (so an auditor can find every call about one person by hashing the
number the same way) and ``query_hash`` the keyed hash of the whole query (name included)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class VerificationCall(SQLModel, table=True):
    __tablename__ = "verification_call"
    __table_args__ = (
        Index("ix_verification_call_at", "at"),
        Index("ix_verification_call_subject_hash", "subject_hash"),
        Index("ix_verification_call_caller", "caller_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    caller_id: str = Field(max_length=64)
    department: str = Field(default="", max_length=40)
    check_kind: str = Field(max_length=32)
    subject_hash: str = Field(max_length=32)
    query_hash: str = Field(max_length=32)
    outcome: str = Field(max_length=32)
