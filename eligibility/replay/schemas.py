"""The replay report: identical or different, and each difference with both values."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class Difference(BaseModel):
    field: str  # eligible, tier, amount_fen, parameters.<name>, condition.<name>, inputs_hash
    recorded: Any
    replayed: Any


class ReplayReport(BaseModel):
    decision_id: int
    policy_id: str
    policy_version: str
    subject_kind: str
    subject_key: str
    as_of: date
    engine_version_recorded: str
    engine_version_now: str
    outcome: str  # identical, different
    differences: list[Difference] = Field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.outcome == "identical"
