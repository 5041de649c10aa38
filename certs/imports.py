"""Certificate-free processing (无证办事): e-certificates issued elsewhere (disability card,
marriage certificate) arrive as signed tokens and only count once their signature, issuer,
identifier, dates and status verify against the trusted issuers' published keys and status
lists. A rejected one is kept in quarantine with its reason; re-importing the same token is a
no-op (unique token hash). Which subject the certificate belongs to is given by the importing
department (``subject_key``), since a public token carries the holder only masked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from certs import repository
from certs.models import CertImport
from certs.schemas import PublishedIssuer
from certs.service import verify_token


def import_certificate(
    session: Session, token: str, trusted_issuers: Sequence[PublishedIssuer | Mapping[str, Any]],
    status_lists: Mapping[str, str] | None = None, subject_key: str | None = None,
    today: date | None = None, require_status: bool = True,
) -> CertImport:
    """Verify and record one external certificate: ``accepted`` or ``quarantined``."""
    text = (token or "").strip()[:8192]
    token_hash = hashlib.sha256(text.encode()).hexdigest()
    existing = repository.get_import(session, token_hash)
    if existing is not None:
        return existing
    result = verify_token(text, trusted_issuers, status_lists, today)
    outcome, reason = "accepted", "ok"
    if not result.valid:
        outcome, reason = "quarantined", result.outcome
    elif require_status and not result.status_checked:
        outcome, reason = "quarantined", "status_unchecked"
    payload = result.certificate or {}
    row = CertImport(
        token_hash=token_hash, token=text, outcome=outcome, reason=reason,
        cert_id=str(payload["id"])[:96] if payload.get("id") else None,
        issuer_code=str(payload["issuerCode"])[:18] if payload.get("issuerCode") else None,
        subject_key=subject_key, imported_at=datetime.now(UTC),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raced = repository.get_import(session, token_hash)
        if raced is None:
            raise
        return raced
    return row
