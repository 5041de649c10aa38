"""money columns 64-bit; keys and codes compared bytewise

1. Amounts are integer fen; an enterprise's annual revenue above 21,474,836.47 yuan overflowed
   the 32-bit INTEGER of 0001 on PostgreSQL (the synthetic city has such enterprises), so every
   money column becomes BIGINT.
2. Pseudonymous keys, blind indexes and USCCs are opaque codes: on PostgreSQL they get
   ``COLLATE "C"``, which makes maintaining their btree indexes during bulk import markedly
   cheaper than the database's linguistic collation (measured: about a third of the index CPU).
   Equality, and so every lookup and unique constraint, is unchanged. SQLite already compares
   bytewise, so there is nothing to do there.

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
# (table, column, length, nullable)
CODE_COLUMNS = (
    ("person", "subject_key", 32, False),
    ("person", "mobile_index", 32, True),
    ("death_record", "subject_key", 32, False),
    ("disability_certificate", "subject_key", 32, False),
    ("social_assistance", "subject_key", 32, False),
    ("marriage_registration", "party_a_key", 32, False),
    ("marriage_registration", "party_b_key", 32, False),
    ("birth_certificate", "child_key", 32, True),
    ("birth_certificate", "mother_key", 32, False),
    ("birth_certificate", "father_key", 32, True),
    ("pregnancy_registration", "subject_key", 32, False),
    ("hukou_move", "subject_key", 32, False),
    ("legacy_payment", "subject_key", 32, False),
    ("enterprise", "uscc", 18, False),
    ("enterprise", "legal_rep_key", 32, False),
    ("ui_contribution", "uscc", 18, False),
    ("dishonesty_entry", "uscc", 18, False),
    ("tax_status", "uscc", 18, False),
)


def _money(old: type[sa.Integer], new: type[sa.Integer]) -> None:
    for table, column in MONEY_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=old(), type_=new(), existing_nullable=False
            )


def _collation(collation: str | None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length, nullable in CODE_COLUMNS:
        op.alter_column(
            table, column, existing_type=sa.String(length), existing_nullable=nullable,
            type_=sa.String(length, collation=collation),
        )


def upgrade() -> None:
    _money(sa.Integer, sa.BigInteger)
    _collation("C")


def downgrade() -> None:
    _collation("default")
    _money(sa.BigInteger, sa.Integer)
