"""Queries behind the verification checks and the call log, in SQLAlchemy Core (no ORM objects
on the hot path). Each check is one or two indexed lookups by pseudonymous key or USCC.
Functions take a ``Connection`` or ``Session`` and never commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, func, insert, or_, select
from sqlmodel import Session

from app.datahub.models import (
    DeathRecord,
    DisabilityCertificate,
    Enterprise,
    LegacyPayment,
    MarriageRegistration,
    Person,
    SocialAssistance,
)
from certs.verify.models import VerificationCall
from eligibility.payments.models import Payment

Executor = Connection | Session

PERSON = Person.__table__  # type: ignore[attr-defined]
DEATH = DeathRecord.__table__  # type: ignore[attr-defined]
ENTERPRISE = Enterprise.__table__  # type: ignore[attr-defined]
MARRIAGE = MarriageRegistration.__table__  # type: ignore[attr-defined]
DISABILITY = DisabilityCertificate.__table__  # type: ignore[attr-defined]
ASSISTANCE = SocialAssistance.__table__  # type: ignore[attr-defined]
PAYMENT = Payment.__table__  # type: ignore[attr-defined]
LEGACY = LegacyPayment.__table__  # type: ignore[attr-defined]
CALL = VerificationCall.__table__  # type: ignore[attr-defined]

PAID_STATUSES = ("batched", "legacy")

class PersonRow(NamedTuple):
    pii: str | None
    status: str
    death_id: int | None  # any death record's id


PERSON_SQL = (
    "SELECT p.pii, p.status, (SELECT d.id FROM death_record d"
    " WHERE d.subject_key = p.subject_key LIMIT 1) FROM person p WHERE p.subject_key = {}"
)
# The same row for many keys at once (the API's batched lookups, ``lookups``), keyed.
PERSON_BATCH_SQL = (
    "SELECT p.subject_key, p.pii, p.status, (SELECT d.id FROM death_record d"
    " WHERE d.subject_key = p.subject_key LIMIT 1) FROM person p"
    " WHERE p.subject_key = ANY(%s::text[])"
)
_PLACEHOLDERS = {"qmark": "?", "numeric": ":1", "named": ":key"}


def person(executor: Executor, subject_key: str) -> PersonRow | None:
    """The person's registry row with any death record, in one statement sent straight to the
    driver: the hot path of every check, so neither Core compilation nor the result wrapper
    (together several times the cost of the indexed lookup itself) is paid here."""
    connection = executor if isinstance(executor, Connection) else executor.connection()
    placeholder = _PLACEHOLDERS.get(connection.dialect.paramstyle, "%s")
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(PERSON_SQL.format(placeholder),
                       {"key": subject_key} if placeholder == ":key" else (subject_key,))
        found = cursor.fetchone()
    finally:
        cursor.close()
    return PersonRow(*found) if found else None


def has_death_record(executor: Executor, subject_key: str) -> bool:
    statement = select(DEATH.c.id).where(DEATH.c.subject_key == subject_key).limit(1)
    return executor.execute(statement).first() is not None


def enterprise(executor: Executor, uscc: str) -> Row[Any] | None:
    statement = (select(ENTERPRISE.c.name, ENTERPRISE.c.status, ENTERPRISE.c.pii)
                 .where(ENTERPRISE.c.uscc == uscc))
    return executor.execute(statement).first()


def enterprises_represented(executor: Executor, subject_key: str) -> Sequence[Row[Any]]:
    statement = (select(ENTERPRISE.c.uscc, ENTERPRISE.c.status, ENTERPRISE.c.kind)
                 .where(ENTERPRISE.c.legal_rep_key == subject_key))
    return executor.execute(statement).all()


def marriages(executor: Executor, subject_key: str) -> Sequence[Row[Any]]:
    """Registrations naming the person, latest first."""
    statement = (
        select(MARRIAGE.c.kind, MARRIAGE.c.registration_date, MARRIAGE.c.party_a_key,
               MARRIAGE.c.party_b_key, MARRIAGE.c.id)
        .where(or_(MARRIAGE.c.party_a_key == subject_key, MARRIAGE.c.party_b_key == subject_key))
        .order_by(MARRIAGE.c.registration_date.desc(), MARRIAGE.c.id.desc())
    )
    return executor.execute(statement).all()


def disabilities(executor: Executor, subject_key: str) -> Sequence[Row[Any]]:
    statement = (select(DISABILITY.c.disability_type, DISABILITY.c.grade,
                        DISABILITY.c.valid_from, DISABILITY.c.valid_to)
                 .where(DISABILITY.c.subject_key == subject_key))
    return executor.execute(statement).all()


def assistance(executor: Executor, subject_key: str) -> Sequence[Row[Any]]:
    statement = (select(ASSISTANCE.c.assistance_kind, ASSISTANCE.c.start_date,
                        ASSISTANCE.c.end_date)
                 .where(ASSISTANCE.c.subject_key == subject_key))
    return executor.execute(statement).all()


def last_paid_period(executor: Executor, subject_key: str, policy_ids: Iterable[str],
                     legacy_codes: Iterable[str]) -> str | None:
    """The latest period paid to the person under these policies (engine ledger, money out)
    or these legacy benefit codes (legacy systems)."""
    ledger = select(func.max(PAYMENT.c.period)).where(
        PAYMENT.c.subject_key == subject_key, PAYMENT.c.policy_id.in_(list(policy_ids)),
        PAYMENT.c.status.in_(PAID_STATUSES))
    legacy = select(func.max(LEGACY.c.period)).where(
        LEGACY.c.subject_key == subject_key, LEGACY.c.benefit_code.in_(list(legacy_codes)))
    periods = [executor.execute(ledger).scalar(), executor.execute(legacy).scalar()]
    return max((p for p in periods if p), default=None)


# --- call log -----------------------------------------------------------------------------------

CALL_COLUMNS = ("at", "caller_id", "department", "check_kind", "subject_hash", "query_hash",
                "outcome")


def insert_calls(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of the call log; on PostgreSQL by ``COPY`` in the connection's transaction (a few
    times cheaper than a multi-row INSERT, and the writer shares the API's CPU)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(CALL), list(rows))
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(
            f"COPY verification_call ({', '.join(CALL_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row[column] for column in CALL_COLUMNS))


def find_calls(executor: Executor, *, subject_hash: str | None = None,
               caller_id: str | None = None, check_kind: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               limit: int = 100) -> Sequence[Row[Any]]:
    statement = select(CALL).order_by(CALL.c.at.desc(), CALL.c.id.desc()).limit(limit)
    if subject_hash:
        statement = statement.where(CALL.c.subject_hash == subject_hash)
    if caller_id:
        statement = statement.where(CALL.c.caller_id == caller_id)
    if check_kind:
        statement = statement.where(CALL.c.check_kind == check_kind)
    if since:
        statement = statement.where(CALL.c.at >= since)
    if until:
        statement = statement.where(CALL.c.at < until)
    return executor.execute(statement).all()


def count_calls(executor: Executor) -> int:
    return int(executor.execute(select(func.count()).select_from(CALL)).scalar() or 0)
