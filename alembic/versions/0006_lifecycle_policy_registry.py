"""policy registry

Policy versions with their lifecycle (draft, validated, submitted, approved, retired), the
exact uploaded text and the content hash decisions record as their policy version.

Revision ID: 0006_lifecycle
Revises: 0006_certs (re-chained after merging main, which holds 0006_auth)
Create Date: 2026-11-22 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0006_lifecycle"
down_revision: str | None = "0006_certs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    string = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", string(length=64), nullable=False),
        sa.Column("content_hash", string(length=64), nullable=True),
        sa.Column("title", string(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", string(length=16), nullable=False),
        sa.Column("author", string(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("validated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("submitted_by", string(length=64), nullable=True),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("approved_by", string(length=64), nullable=True),
        sa.Column("approved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("retired_by", string(length=64), nullable=True),
        sa.Column("retired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_policy_version_content_hash", "policy_version", ["content_hash"], unique=True
    )
    op.create_index(
        "ix_policy_version_policy_state", "policy_version", ["policy_id", "state"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_policy_version_policy_state", table_name="policy_version")
    op.drop_index("ux_policy_version_content_hash", table_name="policy_version")
    op.drop_table("policy_version")
