"""data_push: batches of rows pushed by department systems through the API

One row per pushed batch (unique per department, dataset and the caller's batch id): the API
key, the content's SHA-256, the import batch its rows were written with, counts and per-row
errors. A re-sent batch is answered from it; a different batch under the same id is refused.

Revision ID: 0007_webpush
Revises: 0007_scale10m
Create Date: 2026-11-22 22:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0007_webpush"
down_revision: str | None = "0007_scale10m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("dataset", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("batch_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_sha256", sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["import_batch_id"], ["import_batch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("department", "dataset", "batch_ref"),
    )


def downgrade() -> None:
    op.drop_table("data_push")
