"""personal data access log

Who viewed whose record (pseudonymous subject key), which fields, why and when.

Revision ID: 0006_privacy
Revises: 0006_lifecycle
Create Date: 2026-11-22 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0006_privacy"
down_revision: str | None = "0006_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_data_access",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("viewer_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("viewer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("viewer_roles", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("viewer_department", sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=True),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("fields", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_personal_data_access_subject_at", "personal_data_access",
                    ["subject_key", "at"], unique=False)
    op.create_index(op.f("ix_personal_data_access_viewer_id"), "personal_data_access",
                    ["viewer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_personal_data_access_viewer_id"), table_name="personal_data_access")
    op.drop_index("ix_personal_data_access_subject_at", table_name="personal_data_access")
    op.drop_table("personal_data_access")
