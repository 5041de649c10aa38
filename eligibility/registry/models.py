"""The ``policy_version`` table: one row per uploaded policy text and its lifecycle.

``content_hash`` is the SHA-256 of the document's canonical form (``eligibility.policy.loader``),
the same value decisions record as ``policy_version``; it is NULL while the text does not
validate (such a draft can never be submitted). ``text`` is the YAML exactly as uploaded and is
never changed once written: an approved version is immutable, and loading it checks the hash.
Queries are in ``repository``; the rules in ``service``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class VersionState(StrEnum):
    DRAFT = "draft"
    VALIDATED = "validated"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETIRED = "retired"


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_version"
    __table_args__ = (
        Index("ux_policy_version_content_hash", "content_hash", unique=True),
        Index("ix_policy_version_policy_state", "policy_id", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=64)  # "" while the text does not parse
    content_hash: str | None = Field(default=None, max_length=64)
    title: str = Field(default="", max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16)
    author: str = Field(max_length=64)
    created_at: datetime
    validated_at: datetime | None = None
    submitted_by: str | None = Field(default=None, max_length=64)
    submitted_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = None
    effective_from: date | None = None
    retired_by: str | None = Field(default=None, max_length=64)
    retired_at: datetime | None = None
