"""Shapes the personal-data domain returns: access-log entries (for auditors and for the
citizen concerned) and the refusal receipt. The export document is a plain JSON dict built in
``export`` (its sections are described there and in ``docs/privacy.md``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AccessRecord(BaseModel):
    at: datetime
    subject_key: str
    viewer_kind: str
    viewer_id: str
    viewer_roles: list[str]
    viewer_department: str | None
    purpose: str
    fields: list[str]
    channel: str


class RefusalReceipt(BaseModel):
    subject_key: str
    refused_at: datetime
    message: str
