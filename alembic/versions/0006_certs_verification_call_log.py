"""verification call log

One row per verification (核验) call: caller, check kind, keyed hashes of the subject and the
query (never the queried values), outcome and time.

Revision ID: 0006_certs
Revises: 0006_events
Create Date: 2026-11-22 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0006_certs"
down_revision: str | None = "0006_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verification_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("caller_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("check_kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject_hash", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("query_hash", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verification_call", schema=None) as batch_op:
        batch_op.create_index("ix_verification_call_at", ["at"], unique=False)
        batch_op.create_index("ix_verification_call_subject_hash", ["subject_hash"],
                              unique=False)
        batch_op.create_index("ix_verification_call_caller", ["caller_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verification_call", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_call_caller")
        batch_op.drop_index("ix_verification_call_subject_hash")
        batch_op.drop_index("ix_verification_call_at")
    op.drop_table("verification_call")
