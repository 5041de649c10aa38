"""Shapes sweeps report in (CLI ``--json``, task results)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class SweepReport(BaseModel):
    sweep_id: int
    mode: str  # full, incremental
    as_of: date
    status: str  # running, done
    shards: int
    attempts: int  # shard attempts in all (more than shards: some were redone)
    counts: dict[str, int] = Field(default_factory=dict)
    workers: list[str] = Field(default_factory=list)  # host:pid of the workers that did shards
