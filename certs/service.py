"""E-certificate logic: department keys, issuance (idempotent), status changes, published keys
and status lists, and verification (online against the database, offline from published keys).

Verification has one path, :func:`certs.verification.verify_token` (re-exported here): the
online check rebuilds the token of the stored record (so a tampered row fails its signature)
and feeds it the current published keys, then reads the stored status (the same data the
published status list is built from), so a revocation shows at once. Services only flush;
no holder name, subject key or private key is ever logged.
Issuance and revocation are appended to the tamper-evident audit log (``app.audit``) in the
same transaction; suspension and reinstatement are not (the log has no kind for them yet).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.audit import service as audit
from app.audit.schemas import EntryKind
from app.errors import Conflict, NotFound, ValidationFailed
from app.privacy import keyring, mask_name
from certs import repository, signing, status_list
from certs.identifiers import InvalidIdentifier, make_identifier
from certs.models import (
    CERT_TYPES,
    DEPARTMENTS,
    Certificate,
    CertIssuer,
    CertSigningKey,
    CertStatus,
    CertType,
)
from certs.schemas import PublishedIssuer, PublishedKey, StatusListView, VerificationResult
from certs.verification import MESSAGES, result, verify_token

log = logging.getLogger(__name__)
SUBJECT_KEY_TYPE = "pseudonymous-id-number"
STATUS_LIST_TTL = timedelta(days=1)  # how long an offline verifier may rely on a list
_SUBJECT_KEY = re.compile(r"^[0-9a-f]{32}$")



def _now() -> datetime:
    return datetime.now(UTC)


# --- keys and issuers -------------------------------------------------------------------------


def ensure_issuer(session: Session, department: str, code: str | None = None,
                  name: str | None = None) -> CertIssuer:
    issuer = repository.get_issuer_by_department(session, department)
    if issuer is not None:
        return issuer
    known = DEPARTMENTS.get(department)
    code = code or (known.code if known else None)
    name = name or (known.name if known else None)
    if not code or not name:
        raise ValidationFailed(f"unknown department {department!r}: give --code and --name")
    try:
        make_identifier("0", code, "0")
    except InvalidIdentifier as error:
        raise ValidationFailed(f"issuer code: {error}") from error
    issuer = CertIssuer(code=code, name=name, department=department, created_at=_now())
    session.add(issuer)
    session.flush()
    return issuer


def generate_department_key(
    session: Session, department: str, algorithm: signing.Algorithm = signing.Algorithm.ED25519,
    code: str | None = None, name: str | None = None,
) -> PublishedKey:
    """New active key for the department; the previous active key retires but keeps verifying."""
    issuer = ensure_issuer(session, department, code, name)
    now = _now()
    previous = repository.active_key(session, issuer.code)
    if previous is not None:
        previous.active = False
        previous.retired_at = now
        session.add(previous)
        session.flush()
    generated = signing.generate_key(algorithm)
    row = CertSigningKey(
        key_id=generated.key_id, issuer_code=issuer.code, algorithm=generated.algorithm.value,
        public_key=generated.public_key_b64, private_key=generated.encrypted_private_key,
        active=True, created_at=now,
    )
    session.add(row)
    session.flush()
    log.info("certificate signing key %s created for issuer %s", row.key_id, issuer.code)
    return _published_key(row)


def _published_key(row: CertSigningKey) -> PublishedKey:
    return PublishedKey(key_id=row.key_id, algorithm=row.algorithm, public_key=row.public_key,
                        active=row.active, created_at=row.created_at, retired_at=row.retired_at)


def published_issuers(session: Session) -> list[PublishedIssuer]:
    by_issuer: dict[str, list[PublishedKey]] = {}
    for key in repository.all_keys(session):
        by_issuer.setdefault(key.issuer_code, []).append(_published_key(key))
    return [PublishedIssuer(code=i.code, name=i.name, keys=by_issuer.get(i.code, []))
            for i in repository.list_issuers(session)]


# --- issuance and status ----------------------------------------------------------------------


def payload_of_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`payload_of` of a certificate row not (yet) loaded as an object (bulk issuance)."""
    return {
        "v": 1,
        "id": row["cert_id"],
        "typeCode": row["type_code"],
        "typeName": row["type_name"],
        "number": row["cert_number"],
        "issuedOn": row["issued_on"].isoformat(),
        "issuerCode": row["issuer_code"],
        "issuerName": row["issuer_name"],
        "validFrom": row["valid_from"].isoformat(),
        "validTo": row["valid_to"].isoformat() if row["valid_to"] else None,
        "holder": row["holder_masked"],
        "holderCodeType": row["subject_key_type"],
        "statusIndex": row["status_index"],
    }


def payload_of(cert: Certificate) -> dict[str, Any]:
    """The signed public fields (holder masked, no subject key)."""
    return {
        "v": 1,
        "id": cert.cert_id,
        "typeCode": cert.type_code,
        "typeName": cert.type_name,
        "number": cert.cert_number,
        "issuedOn": cert.issued_on.isoformat(),
        "issuerCode": cert.issuer_code,
        "issuerName": cert.issuer_name,
        "validFrom": cert.valid_from.isoformat(),
        "validTo": cert.valid_to.isoformat() if cert.valid_to else None,
        "holder": cert.holder_masked,
        "holderCodeType": cert.subject_key_type,
        "statusIndex": cert.status_index,
    }


def token_of(cert: Certificate) -> str:
    return signing.encode_token(signing.canonical_json(payload_of(cert)),
                                signing.unb64url(cert.signature), cert.key_id)


def _resolve_issuer(session: Session, issuer: str) -> CertIssuer:
    found = repository.get_issuer(session, issuer) or repository.get_issuer_by_department(
        session, issuer)
    if found is None:
        raise NotFound(f"issuer {issuer} has no signing key yet (mianshen certs keygen)",
                       "颁发机构尚未配置签名密钥")
    return found


def issue_certificate(
    session: Session, cert_type: CertType | str, subject_key: str, holder_name: str,
    issuer: str, valid_from: date, valid_to: date | None, grant_ref: str | None = None,
    issued_on: date | None = None,
) -> Certificate:
    """Issue (or return the already issued) certificate for (cert_type, subject_key, grant_ref).

    ``issuer`` is a department key (``civil_affairs``) or the issuer's USCC code.
    """
    try:
        kind = CertType(cert_type)
    except ValueError as error:
        raise ValidationFailed(f"unknown certificate type {cert_type!r}") from error
    if not _SUBJECT_KEY.match(subject_key or ""):
        raise ValidationFailed("subject key must be 32 lowercase hex characters")
    holder_name = (holder_name or "").strip()
    if not holder_name or len(holder_name) > 64:
        raise ValidationFailed("holder name must be 1..64 characters")
    if valid_to is not None and valid_to < valid_from:
        raise ValidationFailed("valid_to is before valid_from")
    idempotency_key = f"{kind.value}|{subject_key}|{grant_ref or '-'}"
    existing = repository.by_idempotency_key(session, idempotency_key)
    if existing is not None:
        return existing
    info = CERT_TYPES[kind]
    issuer_row = repository.lock_issuer(session, _resolve_issuer(session, issuer).code)
    assert issuer_row is not None
    key = repository.active_key(session, issuer_row.code)
    if key is None:
        raise Conflict(f"issuer {issuer_row.code} has no active signing key",
                       "颁发机构尚未配置签名密钥")
    index = issuer_row.next_status_index
    issuer_row.next_status_index = index + 1
    session.add(issuer_row)
    serial = f"{index + 1:010d}"
    now = _now()
    cert = Certificate(
        cert_id=make_identifier(info.code, issuer_row.code, serial),
        cert_type=kind.value, type_code=info.code, type_name=info.name,
        cert_number=f"{info.code[-4:]}{serial}", issued_on=issued_on or now.date(),
        issuer_code=issuer_row.code, issuer_name=issuer_row.name,
        valid_from=valid_from, valid_to=valid_to, subject_key=subject_key,
        subject_key_type=SUBJECT_KEY_TYPE, holder_masked=mask_name(holder_name),
        pii=keyring().encrypt_json({"holder_name": holder_name}),
        status_index=index, idempotency_key=idempotency_key, grant_ref=grant_ref,
        key_id=key.key_id, signature="", created_at=now, updated_at=now,
    )
    signature = signing.sign(key.algorithm, key.private_key,
                             signing.canonical_json(payload_of(cert)))
    cert.signature = signing.b64url(signature)
    try:
        with session.begin_nested():
            session.add(cert)
            session.flush()
    except IntegrityError:
        raced = repository.by_idempotency_key(session, idempotency_key)
        if raced is None:
            raise
        return raced
    audit.append(session, EntryKind.CERTIFICATE_ISSUED, {
        "record_id": cert.cert_id, "certificate_id": cert.cert_id,
        "certificate_type_code": cert.type_code, "holder_key": cert.subject_key,
        "issuer_code": cert.issuer_code, "valid_from": cert.valid_from,
        "valid_to": cert.valid_to,
        "content_hash": hashlib.sha256(signing.canonical_json(payload_of(cert))).hexdigest(),
    })
    log.info("certificate %s issued (type %s)", cert.cert_id, kind.value)
    return cert


def set_status(session: Session, cert_id: str, status: CertStatus, reason: str) -> Certificate:
    """Revoke (final), suspend, or reinstate a suspended certificate. Re-running is a no-op."""
    cert = repository.get_certificate(session, cert_id)
    if cert is None:
        raise NotFound(f"certificate {cert_id} not found", MESSAGES["not_found"])
    if cert.status == status.value:
        return cert
    if cert.status == CertStatus.REVOKED.value:
        raise Conflict(f"certificate {cert_id} is revoked for good", MESSAGES["revoked"])
    cert.status = status.value
    cert.status_reason = reason[:64]
    cert.updated_at = _now()
    session.add(cert)
    session.flush()
    if status is CertStatus.REVOKED:
        audit.append(session, EntryKind.CERTIFICATE_REVOKED, {
            "record_id": cert_id, "certificate_id": cert_id, "reason": cert.status_reason,
            "effective_date": cert.updated_at.date(),
        })
    log.info("certificate %s is now %s (%s)", cert_id, status.value, cert.status_reason)
    return cert


def revoke_for_subject(session: Session, subject_key: str, reason: str) -> int:
    """Revoke every live certificate of a subject (hook for a death record); returns how many."""
    return revoke_for_subjects(session, [subject_key], reason)


def revoke_for_subjects(session: Session, subject_keys: Sequence[str], reason: str) -> int:
    """Revoke every live certificate of these subjects (a batch of deaths): one look-up, the
    rows changed together and one audit append for all of them; returns how many."""
    live = [c for c in repository.of_subjects(session, subject_keys)
            if c.status != CertStatus.REVOKED.value]
    now = _now()
    for cert in live:
        cert.status = CertStatus.REVOKED.value
        cert.status_reason = reason[:64]
        cert.updated_at = now
        session.add(cert)
    session.flush()
    audit.append_many(session, [
        (EntryKind.CERTIFICATE_REVOKED, {
            "record_id": c.cert_id, "certificate_id": c.cert_id, "reason": c.status_reason,
            "effective_date": now.date()})
        for c in live
    ])
    if live:
        log.info("%d certificates revoked (%s)", len(live), reason[:64])
    return len(live)


def holder_name(cert: Certificate) -> str:
    return str(keyring().decrypt_json(cert.pii)["holder_name"])


# --- status lists -----------------------------------------------------------------------------


def status_list_for(session: Session, issuer_code: str) -> StatusListView:
    """A freshly built, signed status list of one issuer (revocation and suspension bits)."""
    issuer = repository.get_issuer(session, issuer_code)
    key = repository.active_key(session, issuer_code) if issuer else None
    if issuer is None or key is None:
        raise NotFound(f"issuer {issuer_code} unknown or without key", "颁发机构不存在")
    size = max(status_list.MIN_BITS, issuer.next_status_index)
    now = _now()
    payload: dict[str, Any] = {
        "type": "BitstringStatusList",
        "issuer": issuer_code,
        "validFrom": now.isoformat(timespec="seconds"),
        "validUntil": (now + STATUS_LIST_TTL).isoformat(timespec="seconds"),
        "size": size,
    }
    for purpose, status in (("revocation", CertStatus.REVOKED),
                            ("suspension", CertStatus.SUSPENDED)):
        indexes = repository.flagged_indexes(session, issuer_code, status)
        payload[purpose] = status_list.encode(indexes, size)
    body = signing.canonical_json(payload)
    token = signing.encode_token(body, signing.sign(key.algorithm, key.private_key, body),
                                 key.key_id)
    return StatusListView(issuer=issuer_code, token=token, payload=payload)


# --- verification (online; the offline path is certs.verification.verify_token) ------------


def verify_online(session: Session, token: str | None = None, cert_id: str | None = None,
                  today: date | None = None) -> VerificationResult:
    """Verify a token, or the stored certificate ``cert_id``, against the current keys and the
    stored status (what the published status list is built from, without building one)."""
    cert: Certificate | None = None
    if cert_id:
        cert = repository.get_certificate(session, cert_id)
        if cert is None:
            return result("not_found")
        token = token_of(cert)
    if not token:
        raise ValidationFailed("give a token or a certificate id", "请提供证照码或证照标识")
    checked = verify_token(token, published_issuers(session), None, today)
    if not checked.valid or checked.certificate is None:
        return checked
    seen = {"key_id": checked.key_id, "certificate": checked.certificate}
    cert = cert or repository.get_certificate(session, str(checked.certificate["id"]))
    if cert is None:  # signed by a trusted key yet never issued here: refuse
        return result("not_found", **seen)
    if signing.canonical_json(payload_of(cert)) != signing.canonical_json(checked.certificate):
        return result("bad_signature", **seen)  # the stored record no longer matches
    if cert.status == CertStatus.REVOKED.value:
        return result("revoked", status_checked=True, **seen)
    if cert.status == CertStatus.SUSPENDED.value:
        return result("suspended", status_checked=True, **seen)
    return result("ok", status_checked=True, **seen)
