"""Shapes of the enterprise portal's answers."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.portal.schemas import BenefitView


class EnterpriseProfile(BaseModel):
    uscc: str
    name: str
    kind: str
    size_class: str
    region_code: str


class PolicyMatch(BaseModel):
    policy_id: str
    title: str
    eligible: bool
    summary: str
    amount_fen: int | None
    conditions_passed: int
    conditions_total: int
    failing: list[str] = Field(description="failing conditions in plain Chinese")
    benefit: BenefitView | None = Field(description="the grant, once one exists")


class EnterpriseOverview(BaseModel):
    profile: EnterpriseProfile
    as_of: str
    matched: list[PolicyMatch]
    near_misses: list[PolicyMatch]
    not_matched: list[PolicyMatch]
