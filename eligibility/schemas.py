"""Report shapes of the eligibility package (CLI ``--json`` output, future API responses)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PreviewGroup(BaseModel):
    region_code: str | None
    region_name: str
    tier: str | None
    eligible: int
    amount_fen: int  # sum of amounts of one payment


class PreviewTotals(BaseModel):
    subjects: int
    eligible: int
    amount_fen: int  # one payment to everyone eligible
    cost_per_month_fen: int | None  # recurring benefits only
    cost_per_year_fen: int | None
    one_off_total_fen: int | None  # one-off benefits


class PreviewChange(BaseModel):
    against_version: str
    newly_eligible: int
    no_longer_eligible: int
    eligible_delta: int
    cost_per_month_delta_fen: int | None = None
    cost_per_year_delta_fen: int | None
    one_off_total_delta_fen: int | None
    by_group: list[PreviewGroup] = Field(default_factory=list)  # deltas per region and tier


class PreviewReport(BaseModel):
    policy_id: str
    policy_version: str
    title: str
    as_of: str
    benefit_kind: str
    benefit_period: str
    parameters: dict[str, object]
    totals: PreviewTotals
    by_group: list[PreviewGroup] = Field(default_factory=list)
    change: PreviewChange | None = None
    seconds: float = 0.0


class DiffEntry(BaseModel):
    section: str
    item: str
    change: str  # added | removed | changed
    old: str | None = None
    new: str | None = None


class PolicyDiff(BaseModel):
    old_id: str
    new_id: str
    old_version: str
    new_version: str
    entries: list[DiffEntry] = Field(default_factory=list)
