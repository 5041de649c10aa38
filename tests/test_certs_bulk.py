"""Bulk issuance of e-certificates (``certs.bulk``, the sweep's hook) on real PostgreSQL: one
valid, verifiable certificate per granted card or voucher, its audit entry in the same
transaction, nothing issued twice on a re-run, and nothing at all when the shard fails."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.datahub.models import Person
from app.db import engine_for
from app.errors import ValidationFailed
from app.privacy import keyring
from app.settings import get_settings
from certs import grant_hooks, signing
from certs.bulk import IssueRequest, issue_many
from certs.identifiers import is_valid_identifier
from certs.models import Certificate, CertIssuer, CertType
from certs.service import issue_certificate, payload_of, token_of, verify_online
from eligibility.grants.hooks import Hook, register, unregister
from eligibility.sweeps.service import run_sweep
from tests.conftest import truncate_all
from tests.support import data
from tests.support.queries import audit_entries, audit_verifies

pytestmark = pytest.mark.postgres
AS_OF = date(2025, 11, 22)
NAMES = ("陈大文", "李小红", "王芳", "张伟", "刘洋", "黄敏", "周杰", "吴静", "郑强", "孙丽")


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = engine_for(pg_url)
    truncate_all(engine)
    installed = grant_hooks.on_grant_changed in _registered()
    grant_hooks.install()
    yield engine
    if not installed:
        unregister(Hook.GRANT_CHANGED, grant_hooks.on_grant_changed)
        unregister(Hook.SUBJECT_DIED, grant_hooks.on_subject_died)
    truncate_all(engine)


def _registered() -> list[object]:
    from eligibility.grants import hooks

    return list(hooks._registry[Hook.GRANT_CHANGED])


def _city(engine: Engine) -> list[str]:
    """Ten named people aged 60-78 (elderly card; bus card from 65) and one without a name."""
    keys = [data.add_person(engine, n, date(1947 + 2 * n, 1 + n, 1)) for n in range(10)]
    data.add_person(engine, 20, date(1950, 5, 5))  # no name held: no certificate
    with Session(engine) as session:
        for subject_key, name in zip(keys, NAMES, strict=True):
            query = select(Person).where(col(Person.subject_key) == subject_key)
            person = session.exec(query).one()
            person.pii = keyring().encrypt_json({"name": name})
            session.add(person)
        session.commit()
    return keys


def _certificates(engine: Engine) -> list[Certificate]:
    with Session(engine) as session:
        return list(session.exec(select(Certificate).order_by(col(Certificate.id))))


def _card_grants(engine: Engine, named: list[str]) -> set[str]:
    """``grant-<id>`` of the granted card and voucher grants of named people."""
    policies = list(grant_hooks.CERTIFICATE_POLICIES)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, subject_key FROM benefit_grant WHERE state = 'granted' "
            "AND policy_id = ANY(:policies)"), {"policies": policies})
        return {f"grant-{ident}" for ident, key in rows if key in named}


def test_a_sweep_issues_one_valid_logged_certificate_per_card_grant(
    engine: Engine, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = _city(engine)
    run_sweep(AS_OF, full=True, engine=engine, distributed=False)

    certificates = _certificates(engine)
    grants = _card_grants(engine, named)
    assert len(grants) >= 15  # ten elderly cards and the bus cards of the over-65s
    assert sorted(c.grant_ref or "" for c in certificates) == sorted(grants)
    assert Counter(c.cert_type for c in certificates)[CertType.ELDERLY_CARD.value] == 10
    with Session(engine) as session:
        for cert in certificates:
            assert is_valid_identifier(cert.cert_id)
            assert verify_online(session, token=token_of(cert)).outcome == "ok"
        issuers = {i.code: i.next_status_index for i in session.exec(select(CertIssuer))}
    for code, used in issuers.items():  # indexes 0..n-1 of each issuer, each used once
        assert sorted(c.status_index for c in certificates if c.issuer_code == code) == list(
            range(used))

    from app.cli.certs import app as certs_cli

    monkeypatch.setenv("MIANSHEN_DATABASE_URL", pg_url)
    get_settings.cache_clear()
    try:
        for cert in certificates[:3]:  # ``mianshen certs verify <id>``
            assert CliRunner().invoke(certs_cli, ["verify", cert.cert_id]).exit_code == 0
    finally:
        get_settings.cache_clear()

    logged = {e["record_id"]: e for e in audit_entries(engine)["certificate_issued"]}
    assert set(logged) == {c.cert_id for c in certificates}
    for cert in certificates:
        body = signing.canonical_json(payload_of(cert))
        assert logged[cert.cert_id]["content_hash"] == hashlib.sha256(body).hexdigest()
        assert logged[cert.cert_id]["holder_key"] == cert.subject_key
    assert audit_verifies(engine)

    run_sweep(AS_OF, full=True, engine=engine, distributed=False)  # a re-run issues nothing
    assert [c.cert_id for c in _certificates(engine)] == [c.cert_id for c in certificates]
    assert len(audit_entries(engine)["certificate_issued"]) == len(certificates)


def test_a_failing_shard_leaves_no_certificate_and_no_audit_entry(engine: Engine) -> None:
    named = _city(engine)

    def fail(session: Session, changes: object) -> None:
        raise RuntimeError("worker lost")

    register(Hook.GRANT_CHANGED, fail)  # runs after the certificate hook, same transaction
    try:
        with pytest.raises(RuntimeError):
            run_sweep(AS_OF, full=True, engine=engine, distributed=False)
    finally:
        unregister(Hook.GRANT_CHANGED, fail)
    assert _certificates(engine) == []
    assert "certificate_issued" not in audit_entries(engine)
    with Session(engine) as session:
        assert all(i.next_status_index == 0 for i in session.exec(select(CertIssuer)))

    run_sweep(AS_OF, full=True, engine=engine, distributed=False)  # the shard is redone
    assert len(_certificates(engine)) == len(_card_grants(engine, named))
    assert audit_verifies(engine)


def _request(subject_key: str, grant: int, name: str = "陈大文") -> IssueRequest:
    return IssueRequest(CertType.ELDERLY_CARD, subject_key, name, "civil_affairs",
                        valid_from=AS_OF, valid_to=None, grant_ref=f"grant-{grant}",
                        issued_on=AS_OF)


def test_issue_many_is_idempotent_and_shares_the_counter_with_single_issuance(
    engine: Engine,
) -> None:
    keys = [f"{n:032x}" for n in range(1, 6)]
    with Session(engine) as session:
        grant_hooks._ensure_signing_key(session, "civil_affairs")
        single = issue_certificate(session, CertType.ELDERLY_CARD, keys[0], "陈大文",
                                   "civil_affairs", AS_OF, None, grant_ref="grant-1",
                                   issued_on=AS_OF)
        batch = [_request(k, n) for n, k in enumerate(keys, start=1)]
        assert issue_many(session, [*batch, batch[1]]) == 4  # the single one and a duplicate
        later = issue_certificate(session, CertType.ELDERLY_CARD, f"{99:032x}", "李四",
                                  "civil_affairs", AS_OF, None, grant_ref="grant-99")
        session.commit()
        assert (single.status_index, later.status_index) == (0, 5)
    with Session(engine) as session:
        assert issue_many(session, batch) == 0
        session.commit()
    certificates = _certificates(engine)
    assert sorted(c.status_index for c in certificates) == list(range(6))
    assert len(audit_entries(engine)["certificate_issued"]) == 6
    assert audit_verifies(engine)


def test_issue_many_refuses_a_bad_request_and_writes_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        grant_hooks._ensure_signing_key(session, "civil_affairs")
        session.commit()
    for bad in (_request("not-a-key", 1), _request(f"{1:032x}", 1, name=" "),
                _request(f"{1:032x}", 1, name="名" * 65)):
        with Session(engine) as session, pytest.raises(ValidationFailed):
            issue_many(session, [_request(f"{2:032x}", 2), bad])
    assert _certificates(engine) == []
