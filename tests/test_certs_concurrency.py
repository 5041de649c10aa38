"""Concurrent issuance on PostgreSQL: the grant pipeline may run the same grant twice at once
(one certificate results) and many grants in parallel (distinct status-list indexes)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlmodel import select

from app.db import engine_for, session_scope
from app.privacy import keyring
from certs import service
from certs.models import Certificate, CertType


@pytest.mark.postgres
def test_parallel_issuance_is_idempotent_and_indexes_are_distinct(pg_url: str) -> None:
    from tests.conftest import truncate_all

    engine = engine_for(pg_url)
    try:
        with session_scope(engine) as session:
            service.generate_department_key(session, "civil_affairs")
        subjects = [keyring().subject_key(f"37060219500101{n:04d}") for n in range(12)]

        def issue(job: int) -> str:
            subject = subjects[job % 12]  # every subject twice: same grant racing itself
            with session_scope(engine) as session:
                cert = service.issue_certificate(
                    session, CertType.ELDERLY_CARD, subject, "测试", "civil_affairs",
                    date(2026, 1, 1), None, grant_ref=f"grant-{job % 12}")
                return cert.cert_id

        with ThreadPoolExecutor(max_workers=6) as pool:
            ids = list(pool.map(issue, range(24)))
        assert len(set(ids)) == 12
        assert all(ids[j] == ids[j + 12] for j in range(12))
        with session_scope(engine) as session:
            rows = session.exec(select(Certificate)).all()
            assert len(rows) == 12
            assert len({r.status_index for r in rows}) == 12
            issuer = service.repository.get_issuer(session, rows[0].issuer_code)
            assert issuer is not None and issuer.next_status_index >= 12
            assert all(service.verify_online(session, cert_id=r.cert_id).valid for r in rows)
    finally:
        truncate_all(engine)
