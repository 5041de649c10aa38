"""Glue between the grant pipeline and e-certificates.

A grant of an e-certificate or voucher benefit becomes a signed certificate in the same
transaction (idempotent per grant, so a re-run sweep issues nothing twice), a sweep's batch
of grants issued together (``certs.bulk``: a few statements per batch, not per certificate);
a death revokes every live certificate of that person at once. The issuing department gets a
signing key on its first issuance when it has none (the embedded default; in production keys
are made with ``mianshen certs keygen``). :func:`install` registers both hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.datahub.models import Person
from app.privacy import keyring
from certs import repository
from certs.bulk import IssueRequest, issue_many
from certs.models import CERT_TYPES, CertType
from certs.service import ensure_issuer, generate_department_key, revoke_for_subjects
from eligibility.grants.hooks import Death, GrantChange, Hook, register

log = logging.getLogger(__name__)

CERTIFICATE_POLICIES: dict[str, CertType] = {
    "elderly-card": CertType.ELDERLY_CARD,
    "senior-bus-card": CertType.BUS_CARD,
    "premarital-check-voucher": CertType.MARRIAGE_CHECK_VOUCHER,
    "prenatal-check-voucher": CertType.PREGNANCY_CHECK_VOUCHER,
}


# Bind parameters per IN list: PostgreSQL's protocol allows at most 65,535 per statement (and
# SQLite 32,766), and a full sweep of a large city grants cards to hundreds of thousands.
_KEYS_PER_QUERY = 10_000


def _holder_names(session: Session, subject_keys: set[str]) -> dict[str, str]:
    ring = keyring()
    ordered = sorted(subject_keys)
    names: dict[str, str] = {}
    for start in range(0, len(ordered), _KEYS_PER_QUERY):
        chunk = ordered[start : start + _KEYS_PER_QUERY]
        rows = session.exec(select(Person).where(col(Person.subject_key).in_(chunk)))
        names.update(
            (p.subject_key, ring.decrypt_json(p.pii).get("name", "")) for p in rows if p.pii
        )
    return names


def _ensure_signing_key(session: Session, department: str) -> None:
    """The department's issuer and an active key, made on first use. Shards of a first sweep
    reach this at the same moment: on PostgreSQL the maker holds a transaction-level advisory
    lock per department (taken in sorted order by the caller) and the others, once it commits,
    find what it made instead of failing on the issuer's unique code or adding a second key."""
    issuer = repository.get_issuer_by_department(session, department)
    if issuer is not None and repository.active_key(session, issuer.code) is not None:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                        {"name": f"cert-issuer:{department}"})
    issuer = ensure_issuer(session, department)
    if repository.active_key(session, issuer.code) is None:
        generate_department_key(session, department)


def on_grant_changed(session: Session, changes: Sequence[GrantChange]) -> None:
    wanted = [
        c
        for c in changes
        if c.to_state == "granted"
        and c.from_state != "granted"
        and c.policy_id in CERTIFICATE_POLICIES
    ]
    if not wanted:
        return
    names = _holder_names(session, {c.subject_key for c in wanted})
    requests = []
    for change in wanted:
        cert_type = CERTIFICATE_POLICIES[change.policy_id]
        if not names.get(change.subject_key):
            continue  # no name held: the review queue handles these, no certificate is minted
        requests.append(IssueRequest(
            cert_type=cert_type, subject_key=change.subject_key,
            holder_name=names[change.subject_key],
            department=CERT_TYPES[cert_type].department, valid_from=change.effective_date,
            valid_to=None, grant_ref=f"grant-{change.grant_id}",
            issued_on=change.effective_date,
        ))
    for department in sorted({r.department for r in requests}):
        _ensure_signing_key(session, department)  # once per department and batch
    issued = issue_many(session, requests)
    log.info("grant changes issued %d e-certificates", issued)


def on_subject_died(session: Session, deaths: Sequence[Death]) -> None:
    keys = [d.subject_key for d in deaths]
    revoked = revoke_for_subjects(session, keys, "death record received")
    log.info("deaths revoked %d e-certificates", revoked)


def install() -> None:
    register(Hook.GRANT_CHANGED, on_grant_changed)
    register(Hook.SUBJECT_DIED, on_subject_died)
