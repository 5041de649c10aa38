"""Tables of the audit log. Hashes are lowercase hex (the same on SQLite and PostgreSQL).

``audit_entry`` is append-only: one row per logged record, ``seq`` is the leaf index, ``data`` the
exact leaf bytes (canonical JSON, see ``schemas.leaf_data``), ``leaf_hash`` its RFC 9162 leaf
hash, ``seal`` a keyed MAC binding ``seq`` to ``leaf_hash`` (names the exact altered entry even
when an attacker recomputed the leaf hash). ``audit_node`` caches the hashes of completed perfect
subtrees above level 0 so roots and proofs never rehash the log. ``audit_log_head`` is the single
row that serialises appends (row lock) and holds the current size and compact range.
Signed tree heads are ``audit_tree_head``; log keys ``audit_log_key``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

LOG_ID = 1  # one log per deployment; the id of its head row


class AuditLogHead(SQLModel, table=True):
    __tablename__ = "audit_log_head"
    id: int = Field(primary_key=True)
    hash_algorithm: str = Field(max_length=16)
    tree_size: int = Field(sa_type=BigInteger)
    # JSON list of hex hashes of the perfect subtrees of the current tree, largest first.
    compact_range: str = Field(sa_column=Column(Text, nullable=False))
    key_id: str | None = Field(default=None, max_length=16)
    created_at: datetime
    updated_at: datetime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("kind", "record_ref"),)
    seq: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    kind: str = Field(max_length=32)
    record_ref: str = Field(max_length=128)
    appended_at: datetime
    data: str = Field(sa_column=Column(Text, nullable=False))
    leaf_hash: str = Field(max_length=64)
    key_id: str = Field(max_length=16)
    seal: str = Field(max_length=64)


class AuditNode(SQLModel, table=True):
    __tablename__ = "audit_node"
    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    node_index: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    hash: str = Field(max_length=64)


class AuditTreeHead(SQLModel, table=True):
    __tablename__ = "audit_tree_head"
    id: int | None = Field(default=None, primary_key=True)
    tree_size: int = Field(sa_type=BigInteger, index=True)
    root_hash: str = Field(max_length=64)
    hash_algorithm: str = Field(max_length=16)
    timestamp_ms: int = Field(sa_type=BigInteger)
    key_id: str = Field(max_length=16)
    signature: str = Field(max_length=128)


class AuditLogKey(SQLModel, table=True):
    """An Ed25519 log key. ``private_key`` is the seed encrypted with ``app.privacy.keyring()``;
    it is empty for a key configured in settings (``MIANSHEN_AUDIT_SIGNING_KEY``)."""

    __tablename__ = "audit_log_key"
    key_id: str = Field(primary_key=True, max_length=16)
    public_key: str = Field(max_length=64)
    private_key: str | None = Field(default=None, sa_type=Text)
    origin: str = Field(max_length=16)
    created_at: datetime
