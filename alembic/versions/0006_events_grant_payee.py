"""grant payee: who is paid and told when it is not the subject (a child's guardian)

Revision ID: 0006_events
Revises: 0006_auth
Create Date: 2026-11-22 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0006_events"
down_revision: str | None = "0006_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("benefit_grant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payee_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("benefit_grant", schema=None) as batch_op:
        batch_op.drop_column("payee_key")
