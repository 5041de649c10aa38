"""benefit_grant: index (state, paid_through) instead of (state)

The routine ledger extension of every sweep asks for granted grants whose ledger is behind the
current period (``paid_through`` null or earlier). With an index on ``state`` alone that read
every granted grant (~300k rows at 1M persons) on every incremental sweep; with
``(state, paid_through)`` it reads only the grants that are behind. Queries by state alone use
the same index's prefix, so the table keeps the same number of indexes.

Revision ID: 0006_sweep
Revises: 0006_web
Create Date: 2026-11-22 19:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_sweep"
down_revision: str | None = "0006_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("benefit_grant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_benefit_grant_state_paid_through", ["state", "paid_through"], unique=False
        )
        batch_op.drop_index("ix_benefit_grant_state")


def downgrade() -> None:
    with op.batch_alter_table("benefit_grant", schema=None) as batch_op:
        batch_op.create_index("ix_benefit_grant_state", ["state"], unique=False)
        batch_op.drop_index("ix_benefit_grant_state_paid_through")
