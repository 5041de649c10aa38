"""hygiene: longevity-allowance grants carry the legacy system's benefit code

Grants made before the bundled longevity allowance declared its legacy benefit code carried the
policy id, which matches no legacy payment; they take the code the legacy system paid under, so
the ledger's later periods are matched against what the legacy system already paid.

Revision ID: 0007_hygiene
Revises: 0006_sweep
Create Date: 2026-11-22 21:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007_hygiene"
down_revision: str | None = "0006_sweep"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# policy id -> the code its legacy system paid under (app.datahub.catalog.LEGACY_BENEFIT_CODES,
# copied: a migration must not change when the code does)
LEGACY_CODES = {"longevity-allowance": "longevity_allowance"}


def upgrade() -> None:
    for policy_id, code in LEGACY_CODES.items():
        op.execute(
            sa.text("UPDATE benefit_grant SET benefit_code = :code "
                    "WHERE policy_id = :policy AND benefit_code = :policy")
            .bindparams(code=code, policy=policy_id)
        )


def downgrade() -> None:
    for policy_id, code in LEGACY_CODES.items():
        op.execute(
            sa.text("UPDATE benefit_grant SET benefit_code = :policy "
                    "WHERE policy_id = :policy AND benefit_code = :code")
            .bindparams(code=code, policy=policy_id)
        )
