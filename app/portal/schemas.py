"""Shapes the portals answer with (JSON API and page context alike)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import Path
from pydantic import BaseModel, Field

# Grant ids are 32-bit in the database: a larger id in a URL is a 422, not a database error.
GRANT_ID = Path(ge=1, le=2**31 - 1)


class BenefitView(BaseModel):
    grant_id: int
    policy_id: str
    title: str
    state: str
    state_zh: str
    amount_fen: int | None
    period_kind: str
    period_zh: str
    tier: str | None
    start_date: date
    end_date: date | None
    notice_ends_on: date | None
    for_child: bool = Field(description="a child's benefit the citizen receives as a parent")
    can_object: bool
    can_confirm: bool
    confirmation: str | None = Field(description="what the policy asks to confirm, if anything")


class ConditionView(BaseModel):
    description: str
    passed: bool
    reasons: list[str]


class InputView(BaseModel):
    label: str
    value: str
    source: str
    as_of: str | None


class ExplanationView(BaseModel):
    policy_id: str
    title: str
    eligible: bool
    summary: str
    amount_fen: int | None
    tier: str | None
    conditions: list[ConditionView]
    inputs: list[InputView]
    failing: list[str]
    as_of: date
    decision_id: int | None
    policy_version: str
    decided_version: str | None
    inputs_hash: str | None
    decided_at: datetime | None


class ObjectionRequest(BaseModel):
    text: str = Field(min_length=5, max_length=1000, description="异议理由")


class ObjectionView(BaseModel):
    id: int
    grant_id: int
    filed_on: date
    status: str
    status_zh: str
    pauses_notice: bool


class BankAccountRequest(BaseModel):
    bank_name: str = Field(min_length=2, max_length=64, description="开户银行")
    holder: str = Field(min_length=2, max_length=100, description="账户名称")
    account_number: str = Field(pattern=r"^\d{10,30}$", description="银行账号(10-30 位数字)")


class ConfirmRequest(BaseModel):
    accept: bool = True
    account: BankAccountRequest | None = None


class PayeeAccountView(BaseModel):
    bank_name: str
    account_masked: str
    confirmed_at: datetime


class BenefitDetail(BaseModel):
    benefit: BenefitView
    explanation: ExplanationView
    objections: list[ObjectionView]
    payee_account: PayeeAccountView | None
