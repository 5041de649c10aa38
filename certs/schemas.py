"""Pydantic shapes crossing the boundary: published issuer keys, verification results, views of
a certificate (holder masked, never the subject key in public payloads) and API requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class PublishedKey(BaseModel):
    key_id: str
    algorithm: str
    public_key: str  # base64 SubjectPublicKeyInfo DER
    active: bool
    created_at: datetime
    retired_at: datetime | None = None


class PublishedIssuer(BaseModel):
    code: str
    name: str
    keys: list[PublishedKey]


class StatusListView(BaseModel):
    issuer: str
    token: str
    payload: dict[str, Any]


class CertificateView(BaseModel):
    cert_id: str
    cert_type: str
    type_code: str
    type_name: str
    cert_number: str
    issued_on: date
    issuer_code: str
    issuer_name: str
    valid_from: date
    valid_to: date | None
    holder: str
    subject_key_type: str
    status: str
    status_index: int
    key_id: str


class VerificationResult(BaseModel):
    valid: bool
    outcome: str  # ok, bad_token, unknown_issuer, unknown_key, bad_signature, ...
    message: str  # Simplified Chinese, for the person holding or checking the certificate
    status_checked: bool = False
    key_id: str | None = None
    certificate: dict[str, Any] | None = None


class VerifyRequest(BaseModel):
    token: str | None = Field(default=None, max_length=8192)
    cert_id: str | None = Field(default=None, max_length=96)
