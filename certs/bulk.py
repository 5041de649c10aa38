"""Issuing many e-certificates at once (a sweep's granted cards and vouchers).

The same certificates as :func:`certs.service.issue_certificate`, one per idempotency key
``<type>|<subject key>|<grant ref>``, with the same identifiers, signed payloads and audit
entries, but a batch costs a handful of statements instead of several per certificate: the
keys already issued are read in chunks, each department's issuer and active key are resolved
once and its status indexes are reserved with one ``UPDATE ... RETURNING`` (the row lock is held
until the caller commits, departments in sorted order so two batches cannot deadlock), the
rows are written with one ``COPY`` and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (a
certificate issued concurrently is skipped, its reserved index left unused) and the audit
entries appended with ``append_many`` in the caller's transaction. Only flushes; no holder
name is logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from app.audit import service as audit
from app.audit.schemas import EntryKind
from app.errors import Conflict, ValidationFailed
from app.privacy import keyring, mask_name
from certs import repository, signing
from certs.identifiers import CertificateIdentifier, InvalidIdentifier, make_identifier
from certs.models import CERT_TYPES, Certificate, CertIssuer, CertStatus, CertType

log = logging.getLogger(__name__)
KEYS_PER_QUERY = 10_000  # idempotency keys per IN list (bind-parameter limits)
AUDIT_CHUNK = 20_000  # entries per append_many call (bounds the payloads held at once)


@dataclass(frozen=True)
class IssueRequest:
    cert_type: CertType
    subject_key: str
    holder_name: str
    department: str  # key of certs.models.DEPARTMENTS (the issuer must exist)
    valid_from: date
    valid_to: date | None
    grant_ref: str | None
    issued_on: date

    @property
    def idempotency_key(self) -> str:
        return f"{self.cert_type.value}|{self.subject_key}|{self.grant_ref or '-'}"


def _check(request: IssueRequest) -> None:
    """The same refusals as single issuance (a bad request fails the whole batch)."""
    from certs.service import _SUBJECT_KEY

    if not _SUBJECT_KEY.match(request.subject_key or ""):
        raise ValidationFailed("subject key must be 32 lowercase hex characters")
    name = request.holder_name.strip()
    if not name or len(name) > 64:
        raise ValidationFailed("holder name must be 1..64 characters")
    if request.valid_to is not None and request.valid_to < request.valid_from:
        raise ValidationFailed("valid_to is before valid_from")


def _already_issued(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        statement = select(col(Certificate.idempotency_key)).where(
            col(Certificate.idempotency_key).in_(chunk))
        found.update(session.execute(statement).scalars())
    return found


def _reserve_indexes(session: Session, issuer: CertIssuer, count: int) -> int:
    """First of ``count`` consecutive status indexes of the issuer (row locked till commit)."""
    statement = (
        update(CertIssuer).where(col(CertIssuer.code) == issuer.code)
        .values(next_status_index=col(CertIssuer.next_status_index) + count)
        .returning(col(CertIssuer.next_status_index))
        .execution_options(synchronize_session=False)
    )
    end = int(session.execute(statement).scalar_one())
    session.expire(issuer)  # the loaded row's counter is stale now
    return end - count


def _rows_of_department(
    session: Session, department: str, requests: list[IssueRequest], now: datetime
) -> Iterator[tuple[dict[str, Any], str]]:
    """Rows ready to insert, each with the SHA-256 of its signed payload (for the audit log)."""
    from certs.service import SUBJECT_KEY_TYPE, payload_of_row

    issuer = repository.get_issuer_by_department(session, department)
    if issuer is None:
        raise Conflict(f"department {department} has no issuer", "颁发机构尚未配置签名密钥")
    key = repository.active_key(session, issuer.code)
    if key is None:
        raise Conflict(f"issuer {issuer.code} has no active signing key",
                       "颁发机构尚未配置签名密钥")
    try:
        make_identifier("0", issuer.code, "0")  # the issuer code is checked once per batch
    except InvalidIdentifier as error:
        raise ValidationFailed(f"issuer code: {error}") from error
    code, name, key_id = issuer.code, issuer.name, key.key_id
    sign = signing.signer(key.algorithm, key.private_key)
    first = _reserve_indexes(session, issuer, len(requests))
    ring = keyring()
    for offset, request in enumerate(requests):
        info = CERT_TYPES[request.cert_type]
        index = first + offset
        serial = f"{index + 1:010d}"
        holder = request.holder_name.strip()
        row: dict[str, Any] = {
            "cert_id": str(CertificateIdentifier(info.code, code, serial)),
            "cert_type": request.cert_type.value, "type_code": info.code,
            "type_name": info.name, "cert_number": f"{info.code[-4:]}{serial}",
            "issued_on": request.issued_on, "issuer_code": code, "issuer_name": name,
            "valid_from": request.valid_from, "valid_to": request.valid_to,
            "subject_key": request.subject_key, "subject_key_type": SUBJECT_KEY_TYPE,
            "holder_masked": mask_name(holder),
            "pii": ring.encrypt_json({"holder_name": holder}),
            "status": CertStatus.VALID.value, "status_index": index,
            "idempotency_key": request.idempotency_key, "grant_ref": request.grant_ref,
            "key_id": key_id, "signature": "", "created_at": now, "updated_at": now,
        }
        body = signing.canonical_json(payload_of_row(row))
        row["signature"] = signing.b64url(sign(body))
        yield row, hashlib.sha256(body).hexdigest()


def _audit_items(rows: list[dict[str, Any]], hashes: dict[str, str]
                 ) -> Iterator[tuple[EntryKind, dict[str, Any]]]:
    for row in rows:
        yield EntryKind.CERTIFICATE_ISSUED, {
            "record_id": row["cert_id"], "certificate_id": row["cert_id"],
            "certificate_type_code": row["type_code"], "holder_key": row["subject_key"],
            "issuer_code": row["issuer_code"], "valid_from": row["valid_from"],
            "valid_to": row["valid_to"], "content_hash": hashes[row["cert_id"]],
        }


def issue_many(session: Session, requests: Sequence[IssueRequest]) -> int:
    """Issue every request not issued before (by idempotency key); returns how many were."""
    for request in requests:
        _check(request)
    unique: dict[str, IssueRequest] = {}
    for request in requests:
        unique.setdefault(request.idempotency_key, request)
    issued = _already_issued(session, sorted(unique))
    by_department: dict[str, list[IssueRequest]] = {}
    for ident, request in unique.items():
        if ident not in issued:
            by_department.setdefault(request.department, []).append(request)
    if not by_department:
        return 0
    session.flush()
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    hashes: dict[str, str] = {}
    for department in sorted(by_department):  # lock order: no deadlock between batches
        for row, content_hash in _rows_of_department(session, department,
                                                     by_department[department], now):
            rows.append(row)
            hashes[row["cert_id"]] = content_hash
    written = repository.insert_new_certificates(session, rows)
    logged = [row for row in rows if row["cert_id"] in written]
    for start in range(0, len(logged), AUDIT_CHUNK):
        chunk = logged[start : start + AUDIT_CHUNK]
        audit.append_many(session, list(_audit_items(chunk, hashes)))
    log.info("%d certificates issued in bulk (%d already issued)", len(written),
             len(unique) - len(written))
    return len(written)
