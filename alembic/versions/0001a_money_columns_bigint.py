"""money columns 64-bit

Amounts are integer fen; an enterprise's annual revenue above 21,474,836.47 yuan overflowed the
32-bit INTEGER of 0001 on PostgreSQL (the synthetic city has such enterprises), so every money
column becomes BIGINT.

Revision ID: 0001a
Revises: 0001
Create Date: 2026-11-22 17:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001a"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY_COLUMNS = (
    ("legacy_payment", "amount_fen"),
    ("ui_contribution", "contribution_fen"),
    ("tax_status", "annual_revenue_fen"),
    ("tax_status", "arrears_fen"),
)


def upgrade() -> None:
    for table, column in MONEY_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
            )


def downgrade() -> None:
    for table, column in MONEY_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
            )
