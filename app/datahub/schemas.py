"""Shapes the shared data platform reports in (CLI ``--json``, API responses)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DatasetCounts(BaseModel):
    loaded: int = 0  # inserted or changed rows
    unchanged: int = 0  # rows identical to what is held
    quarantined: int = 0  # rows rejected, with a reason, into the quarantine


class ImportReport(BaseModel):
    datasets: dict[str, DatasetCounts] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)  # file name → why it was not (all) loaded
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(c.loaded + c.unchanged + c.quarantined for c in self.datasets.values())


class SynthReport(BaseModel):
    out_dir: str
    rows: dict[str, int] = Field(default_factory=dict)  # dataset → rows written
    dirty_rows: int = 0  # deliberately invalid rows among them
    seconds: float = 0.0


class QuarantineEntry(BaseModel):
    dataset: str
    file_name: str
    row_number: int
    reason: str
    created_at: datetime
