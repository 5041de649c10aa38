"""Shapes of the citizen portal's answers (JSON under ``/api/v1/me`` and page context)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ProfileView(BaseModel):
    name: str
    id_number: str
    mobile: str
    region_code: str
    automation_refused: bool


class PaymentView(BaseModel):
    grant_id: int
    title: str
    period: str
    amount_fen: int
    status: str
    status_zh: str
    back_pay: bool


class RefusalView(BaseModel):
    refused: bool
    refused_at: datetime | None
