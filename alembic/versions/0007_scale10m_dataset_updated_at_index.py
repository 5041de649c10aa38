"""dataset tables: index on updated_at (the incremental sweep's dirty detection)

An incremental sweep asks every dataset table for the rows changed since the last sweep's
watermark (``updated_at > since``). Without an index that is a sequential scan of every table:
about 10 s for the person table alone at 3M persons on the shared machine, ~9 GB of tables at
10M, on every nightly sweep however little changed. With the index only the changed rows are
read. Rows of one import batch share one ``updated_at`` and later changes append at the right
edge, so the index is small and cheap to keep.

Revision ID: 0007_scale10m
Revises: 0006_sweep
Create Date: 2026-11-22 22:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_scale10m"
down_revision: str | None = "0006_sweep"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "person", "death_record", "disability_certificate", "social_assistance",
    "marriage_registration", "birth_certificate", "pregnancy_registration", "hukou_move",
    "legacy_payment", "enterprise", "ui_contribution", "dishonesty_entry", "tax_status",
)


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_updated_at")
