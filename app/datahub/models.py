"""Storage tables of the shared data platform, one per catalog dataset, plus import batches and
the quarantine. Columns follow ``catalog`` (see its docstring for how personal fields are
stored: pseudonymous keys and blind indexes as columns, plaintext only encrypted in ``pii``).

Every row keeps its source department and as-of date, the keyed hash of its canonical content
(``row_hash``: a re-import of identical data changes nothing) and when it last changed
(``updated_at``: what the incremental sweep reads).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class DatasetRow(SQLModel):
    id: int | None = Field(default=None, primary_key=True)
    source_dept: str = Field(max_length=40)
    as_of: date
    pii: str | None = Field(default=None, sa_type=Text)
    row_hash: str = Field(max_length=32)
    batch_id: int | None = Field(default=None)
    updated_at: datetime = Field(index=True)  # the incremental sweep's "changed since"


def _money() -> int:
    """Amounts in fen: 64-bit (an annual revenue of 21.5 million yuan overflows 32 bits)."""
    return Field(sa_type=BigInteger)


def code_type(length: int) -> String:
    """Keys and codes compared byte by byte: PostgreSQL's ``COLLATE "C"`` makes their btree
    indexes markedly cheaper to maintain than a linguistic collation (SQLite already is)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _key(*, nullable: bool = False, unique: bool = False) -> str:
    """A pseudonymous key or blind index column (32 hex characters), indexed."""
    return Field(
        default=None if nullable else ..., max_length=32, sa_type=code_type(32),
        index=not unique, unique=unique,
    )


def _uscc(*, unique: bool = False) -> str:
    return Field(max_length=18, sa_type=code_type(18), index=not unique, unique=unique)


class Person(DatasetRow, table=True):
    __tablename__ = "person"
    subject_key: str = _key(unique=True)
    sex: str = Field(max_length=1)
    birth_date: date
    region_code: str = Field(max_length=6, index=True)
    mobile_index: str | None = _key(nullable=True)
    status: str = Field(max_length=16)


class DeathRecord(DatasetRow, table=True):
    __tablename__ = "death_record"
    __table_args__ = (UniqueConstraint("subject_key", "source_kind"),)
    subject_key: str = _key()
    date_of_death: date
    source_kind: str = Field(max_length=16)


class DisabilityCertificate(DatasetRow, table=True):
    __tablename__ = "disability_certificate"
    __table_args__ = (UniqueConstraint("subject_key", "disability_type"),)
    subject_key: str = _key()
    disability_type: str = Field(max_length=16)
    grade: int
    valid_from: date
    valid_to: date | None = None


class SocialAssistance(DatasetRow, table=True):
    __tablename__ = "social_assistance"
    __table_args__ = (UniqueConstraint("subject_key", "assistance_kind", "start_date"),)
    subject_key: str = _key()
    assistance_kind: str = Field(max_length=16)
    household_id: str = Field(max_length=40)
    start_date: date
    end_date: date | None = None


class MarriageRegistration(DatasetRow, table=True):
    __tablename__ = "marriage_registration"
    registration_no: str = Field(max_length=40, unique=True)
    party_a_key: str = _key()
    party_b_key: str = _key()
    kind: str = Field(max_length=16)
    registration_date: date


class BirthCertificate(DatasetRow, table=True):
    __tablename__ = "birth_certificate"
    certificate_no: str = Field(max_length=40, unique=True)
    child_key: str | None = _key(nullable=True)
    child_sex: str = Field(max_length=1)
    birth_date: date
    birth_region: str = Field(max_length=6)
    mother_key: str = _key()
    father_key: str | None = _key(nullable=True)


class PregnancyRegistration(DatasetRow, table=True):
    __tablename__ = "pregnancy_registration"
    registration_no: str = Field(max_length=40, unique=True)
    subject_key: str = _key()
    registration_date: date
    expected_delivery_date: date


class HukouMove(DatasetRow, table=True):
    __tablename__ = "hukou_move"
    move_no: str = Field(max_length=40, unique=True)
    subject_key: str = _key()
    direction: str = Field(max_length=3)
    move_date: date
    from_region: str | None = Field(default=None, max_length=6)
    to_region: str | None = Field(default=None, max_length=6)


class LegacyPayment(DatasetRow, table=True):
    __tablename__ = "legacy_payment"
    payment_ref: str = Field(max_length=64, unique=True)
    subject_key: str = _key()
    benefit_code: str = Field(max_length=64)
    period: str = Field(max_length=7)
    amount_fen: int = _money()


class Enterprise(DatasetRow, table=True):
    __tablename__ = "enterprise"
    uscc: str = _uscc(unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=24)
    industry_code: str = Field(max_length=8)
    size_class: str = Field(max_length=8)
    region_code: str = Field(max_length=6, index=True)
    registration_date: date
    status: str = Field(max_length=16)
    legal_rep_key: str = _key()


class UiContribution(DatasetRow, table=True):
    __tablename__ = "ui_contribution"
    __table_args__ = (UniqueConstraint("uscc", "period"),)
    uscc: str = _uscc()
    period: str = Field(max_length=7)
    insured_headcount: int
    contribution_fen: int = _money()
    layoffs: int
    graduates_hired: int


class DishonestyEntry(DatasetRow, table=True):
    __tablename__ = "dishonesty_entry"
    entry_no: str = Field(max_length=40, unique=True)
    uscc: str = _uscc()
    list_kind: str = Field(max_length=64)
    listed_date: date
    removed_date: date | None = None


class TaxStatus(DatasetRow, table=True):
    __tablename__ = "tax_status"
    __table_args__ = (UniqueConstraint("uscc", "year"),)
    uscc: str = _uscc()
    year: int
    annual_revenue_fen: int = _money()
    arrears_fen: int = _money()


class ImportBatch(SQLModel, table=True):
    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    dataset: str = Field(max_length=40, index=True)
    file_name: str = Field(max_length=500)
    file_sha256: str = Field(max_length=64)
    started_at: datetime
    finished_at: datetime | None = None
    rows_read: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0


class QuarantinedRow(SQLModel, table=True):
    """A row that failed validation, kept with its reason; ``raw`` is encrypted (it may hold
    personal data). ``fingerprint`` (keyed hash of dataset + raw content) makes re-imports
    idempotent."""

    __tablename__ = "quarantined_row"
    __table_args__ = (Index("ix_quarantined_row_dataset", "dataset"),)
    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=32, unique=True)
    dataset: str = Field(max_length=40)
    file_name: str = Field(max_length=500)
    row_number: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    batch_id: int | None = None
    created_at: datetime


class DataPush(SQLModel, table=True):
    """A batch of rows a department system pushed (``POST /api/v1/data/{dataset}/batches``):
    who pushed it (API key id, department), the SHA-256 of its content, the import batch its
    rows went in with, the counts and the per-row errors (JSON: row index, field, code and
    message; never a value). Unique per department, dataset and the caller's ``batch_ref``:
    a re-send is answered from here and writes nothing."""

    __tablename__ = "data_push"
    __table_args__ = (UniqueConstraint("department", "dataset", "batch_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    department: str = Field(max_length=40)
    dataset: str = Field(max_length=40)
    batch_ref: str = Field(max_length=64)
    key_id: str = Field(max_length=64)
    content_sha256: str = Field(max_length=64)
    import_batch_id: int | None = Field(default=None, foreign_key="import_batch.id")
    rows: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    errors: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    created_at: datetime


DATASET_MODELS: dict[str, type[DatasetRow]] = {
    model.__tablename__: model
    for model in (
        Person, DeathRecord, DisabilityCertificate, SocialAssistance, MarriageRegistration,
        BirthCertificate, PregnancyRegistration, HukouMove, LegacyPayment, Enterprise,
        UiContribution, DishonestyEntry, TaxStatus,
    )
}
