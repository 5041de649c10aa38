"""Request and response shapes of the verification API. Requests carry the queried personal
data in the body (POST), never in the URL, so it cannot reach access logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from certs.verify.status import StatusKind


class PersonQuery(BaseModel):
    name: str = Field(max_length=64)
    id_number: str = Field(max_length=32)


class EnterpriseQuery(BaseModel):
    uscc: str = Field(max_length=32)
    name: str = Field(max_length=200)
    legal_rep: str = Field(max_length=64)


class StatusQuery(BaseModel):
    id_number: str = Field(max_length=32)
    kind: StatusKind


class CheckResult(BaseModel):
    check: str
    outcome: str
    matched: bool | None = None
    message: str
    facts: dict[str, Any] = {}


class CallSearch(BaseModel):
    """Auditors search by the ID number or USCC asked about (hashed before the query), caller
    or check kind, in a time window."""

    subject: str | None = Field(default=None, max_length=32)
    caller_id: str | None = Field(default=None, max_length=64)
    check_kind: str | None = Field(default=None, max_length=32)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class CallView(BaseModel):
    id: int
    at: datetime
    caller_id: str
    department: str
    check_kind: str
    subject_hash: str
    query_hash: str
    outcome: str
