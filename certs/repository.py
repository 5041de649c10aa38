"""All queries of the e-certificate domain. Functions take a session and only flush; the edge
owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.db import copy_insert_new
from certs.models import Certificate, CertImport, CertIssuer, CertSigningKey, CertStatus


def get_issuer(session: Session, code: str) -> CertIssuer | None:
    return session.get(CertIssuer, code)


def get_issuer_by_department(session: Session, department: str) -> CertIssuer | None:
    return session.exec(select(CertIssuer).where(CertIssuer.department == department)).first()


def lock_issuer(session: Session, code: str) -> CertIssuer | None:
    """The issuer row under a row lock: serialises status-index allocation (PostgreSQL)."""
    statement = select(CertIssuer).where(CertIssuer.code == code).with_for_update()
    return session.exec(statement).first()


def list_issuers(session: Session) -> Sequence[CertIssuer]:
    return session.exec(select(CertIssuer).order_by(col(CertIssuer.code))).all()


def keys_of(session: Session, issuer_code: str) -> Sequence[CertSigningKey]:
    statement = (select(CertSigningKey).where(CertSigningKey.issuer_code == issuer_code)
                 .order_by(col(CertSigningKey.created_at)))
    return session.exec(statement).all()


def all_keys(session: Session) -> Sequence[CertSigningKey]:
    return session.exec(select(CertSigningKey).order_by(col(CertSigningKey.created_at))).all()


def active_key(session: Session, issuer_code: str) -> CertSigningKey | None:
    statement = select(CertSigningKey).where(
        CertSigningKey.issuer_code == issuer_code, col(CertSigningKey.active).is_(True)
    )
    return session.exec(statement).first()


def get_key(session: Session, key_id: str) -> CertSigningKey | None:
    return session.get(CertSigningKey, key_id)


def get_certificate(session: Session, cert_id: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.cert_id == cert_id)).first()


def by_idempotency_key(session: Session, key: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.idempotency_key == key)).first()


def of_subject(session: Session, subject_key: str) -> Sequence[Certificate]:
    return of_subjects(session, [subject_key])


def of_subjects(session: Session, subject_keys: Sequence[str]) -> Sequence[Certificate]:
    wanted = sorted(set(subject_keys))
    statement = (select(Certificate).where(col(Certificate.subject_key).in_(wanted))
                 .order_by(col(Certificate.id)))
    return session.exec(statement).all()


def list_certificates(
    session: Session, cert_type: str | None = None, status: str | None = None, limit: int = 100
) -> Sequence[Certificate]:
    statement = select(Certificate).order_by(col(Certificate.id)).limit(limit)
    if cert_type:
        statement = statement.where(Certificate.cert_type == cert_type)
    if status:
        statement = statement.where(Certificate.status == status)
    return session.exec(statement).all()


def flagged_indexes(session: Session, issuer_code: str, status: CertStatus) -> list[int]:
    statement = select(Certificate.status_index).where(
        Certificate.issuer_code == issuer_code, Certificate.status == status.value
    )
    return list(session.exec(statement).all())


def get_import(session: Session, token_hash: str) -> CertImport | None:
    return session.exec(select(CertImport).where(CertImport.token_hash == token_hash)).first()


def count_certificates(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Certificate)).one())


def insert_new_certificates(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Write certificate rows in bulk, skipping any whose ``idempotency_key`` exists (issued
    meanwhile by another transaction); the ``cert_id`` of the rows written.

    PostgreSQL: one ``COPY`` into a temporary table dropped at commit, then one
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING``; elsewhere a batched insert."""
    if not rows:
        return set()
    table = Certificate.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        statement = (sqlite_insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
                     .returning(table.c.cert_id))
        return set(connection.execute(statement, rows).scalars())
    return {str(found[0]) for found in
            copy_insert_new(session, "certificate", rows, "idempotency_key", "cert_id")}
