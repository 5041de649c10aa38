"""hygiene: legacy benefit code of longevity grants; held-out totals of payment batches

Payment batches record their file format (1: payee by key; 2: with the confirmed bank account)
and the payments held out of them (count, amount, per reason as JSON); batches made before keep
format 1 and nothing held, so their files re-render identically.

Grants made before the bundled longevity allowance declared its legacy benefit code carried the
policy id, which matches no legacy payment; they take the code the legacy system paid under, so
the ledger's later periods are matched against what the legacy system already paid.

Revision ID: 0007_hygiene
Revises: 0007_webpush
Create Date: 2026-11-22 21:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0007_hygiene"
down_revision: str | None = "0007_webpush"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# policy id -> the code its legacy system paid under (app.datahub.catalog.LEGACY_BENEFIT_CODES,
# copied: a migration must not change when the code does)
LEGACY_CODES = {"longevity-allowance": "longevity_allowance"}


def upgrade() -> None:
    with op.batch_alter_table("payment_batch") as batch:
        batch.add_column(sa.Column("format_version", sa.Integer(), nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("held_count", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("held_fen", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("held_reasons", sqlmodel.sql.sqltypes.AutoString(length=2000),
                                   nullable=False, server_default="{}"))
    for policy_id, code in LEGACY_CODES.items():
        op.execute(
            sa.text("UPDATE benefit_grant SET benefit_code = :code "
                    "WHERE policy_id = :policy AND benefit_code = :policy")
            .bindparams(code=code, policy=policy_id)
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_batch") as batch:
        for column in ("held_reasons", "held_fen", "held_count", "format_version"):
            batch.drop_column(column)
    for policy_id, code in LEGACY_CODES.items():
        op.execute(
            sa.text("UPDATE benefit_grant SET benefit_code = :policy "
                    "WHERE policy_id = :policy AND benefit_code = :code")
            .bindparams(code=code, policy=policy_id)
        )
