"""Tables of sweep runs and their shards. A shard row is the unit of distributed work: it holds
its key range (or explicit keys), a lease (owner token and expiry) and its result. Queries are in
``repository``; logic in ``service``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class SweepRun(SQLModel, table=True):
    __tablename__ = "sweep_run"
    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=16)  # full, incremental, targeted
    as_of: date
    previous_as_of: date | None = None
    status: str = Field(max_length=16)  # running, done, failed
    data_watermark: datetime  # data changed up to here is covered by this sweep
    shard_count: int = 0
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    started_at: datetime
    finished_at: datetime | None = None


class SweepShard(SQLModel, table=True):
    __tablename__ = "sweep_shard"
    __table_args__ = (UniqueConstraint("sweep_id", "subject_kind", "shard_no"),)
    id: int | None = Field(default=None, primary_key=True)
    sweep_id: int = Field(index=True)
    subject_kind: str = Field(max_length=16)
    shard_no: int
    key_lo: str | None = Field(default=None, max_length=32)  # inclusive; None = from the start
    key_hi: str | None = Field(default=None, max_length=32)  # exclusive; None = to the end
    subject_keys: str | None = Field(default=None, sa_column=Column(Text))  # JSON list or None
    full_policies: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # pending, leased, done
    lease_token: str | None = Field(default=None, max_length=36)
    lease_expires_at: datetime | None = None
    attempts: int = 0
    result: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    finished_at: datetime | None = None
