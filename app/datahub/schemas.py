"""Shapes the shared data platform reports in (CLI ``--json``, API responses)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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


MAX_PUSH_ROWS = 10_000  # rows per pushed batch; a larger one is refused whole (413)


class PushBatchIn(BaseModel):
    """A department system's batch of rows for one catalog dataset. Each row is an object of
    the dataset's fields (``docs/data-catalog.md``); ``source_dept`` defaults to the key's
    department and ``as_of`` to the batch's."""

    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
                          description="The caller's id of this batch; re-sending it is a no-op.")
    as_of: date | None = Field(default=None, description="Default as_of of rows without one.")
    rows: list[dict[str, Any]] = Field(min_length=1, description=f"At most {MAX_PUSH_ROWS:,}.")


class RowError(BaseModel):
    """Why one pushed row was quarantined: field, English code, Chinese message (no values)."""

    index: int  # 0-based position in ``rows``
    field: str  # a field name, or "row" for the row as a whole
    code: str
    message: str


class PushBatchResult(BaseModel):
    batch_id: str
    dataset: str
    received: int
    accepted: int  # loaded + unchanged
    loaded: int  # inserted or changed rows
    unchanged: int  # rows identical to what is held
    quarantined: int
    errors: list[RowError] = Field(default_factory=list)
    content_sha256: str
    pushed_at: datetime
