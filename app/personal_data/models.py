"""Tables of the personal-data domain: ``personal_data_access``, one row per view of a person's
record (who, whose by pseudonymous subject key, what, why, when). Append-only by use; queries
are in ``repository``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer
from sqlmodel import Field, SQLModel


class PersonalDataAccess(SQLModel, table=True):
    __tablename__ = "personal_data_access"
    __table_args__ = (Index("ix_personal_data_access_subject_at", "subject_key", "at"),)
    # 64-bit on PostgreSQL; SQLite auto-increments only an INTEGER primary key
    id: int | None = Field(default=None, primary_key=True,
                           sa_type=BigInteger().with_variant(Integer(), "sqlite"))
    at: datetime
    subject_key: str = Field(max_length=32)  # whose record (pseudonymous), never in clear
    viewer_kind: str = Field(max_length=16)  # staff | citizen | enterprise | department | cli
    viewer_id: str = Field(max_length=64, index=True)
    viewer_roles: str = Field(default="", max_length=128)
    viewer_department: str | None = Field(default=None, max_length=64)
    purpose: str = Field(max_length=64)  # e.g. certificate_page, grants_show, citizen_export
    fields: str = Field(max_length=256)  # comma-separated field names shown
    channel: str = Field(max_length=8)  # api | cli
