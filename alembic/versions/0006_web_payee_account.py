"""payee account confirmed by a beneficiary

The bank account a citizen or enterprise confirms for a grant whose policy asks for it
(process confirmation: bank_account); account number and holder encrypted.

Revision ID: 0006_web
Revises: 0006_lifecycle
Create Date: 2026-11-22 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0006_web"
down_revision: str | None = "0006_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payee_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("bank_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_masked", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("pii", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("confirmed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("grant_id"),
    )
    op.create_index("ix_payee_account_subject_key", "payee_account", ["subject_key"])


def downgrade() -> None:
    op.drop_index("ix_payee_account_subject_key", table_name="payee_account")
    op.drop_table("payee_account")
