"""E-certificate issuance, signatures, status lists and verification on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import Conflict
from app.privacy import keyring
from certs import service, signing
from certs.models import DEPARTMENTS, CertStatus, CertType
from certs.signing import Algorithm

TODAY = date(2026, 11, 22)
SUBJECT = keyring().subject_key("370602195001011234")


def _setup(engine: Engine, algorithm: Algorithm = Algorithm.ED25519) -> None:
    with session_scope(engine) as session:
        service.generate_department_key(session, "civil_affairs", algorithm)


def _issue(engine: Engine, subject: str = SUBJECT, grant_ref: str | None = "grant-1",
           valid_to: date | None = date(2031, 11, 21)) -> str:
    with session_scope(engine) as session:
        cert = service.issue_certificate(
            session, CertType.ELDERLY_CARD, subject, "王秀英", "civil_affairs",
            date(2026, 11, 22), valid_to, grant_ref=grant_ref, issued_on=TODAY)
        return service.token_of(cert)


def _published(engine: Engine) -> tuple[list[dict], dict[str, str]]:
    with session_scope(engine) as session:
        issuers = [i.model_dump(mode="json") for i in service.published_issuers(session)]
        code = DEPARTMENTS["civil_affairs"].code
        return issuers, {code: service.status_list_for(session, code).token}


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_issued_certificate_verifies_offline_and_online(engine: Engine,
                                                        algorithm: Algorithm) -> None:
    _setup(engine, algorithm)
    token = _issue(engine)
    issuers, lists = _published(engine)
    result = service.verify_token(token, issuers, lists, today=TODAY)
    assert result.valid and result.status_checked, result
    assert result.certificate and result.certificate["holder"] == "王**"
    assert "王秀英" not in json.dumps(result.certificate, ensure_ascii=False)
    with session_scope(engine) as session:
        cert_id = result.certificate["id"]
        assert service.verify_online(session, cert_id=cert_id, today=TODAY).valid
        stored = service.repository.get_certificate(session, cert_id)
        assert stored is not None and service.holder_name(stored) == "王秀英"


def test_issuance_is_idempotent_per_type_subject_and_grant(engine: Engine) -> None:
    _setup(engine)
    first = _issue(engine)
    assert _issue(engine) == first
    other = _issue(engine, grant_ref="grant-2")
    assert other != first
    with session_scope(engine) as session:
        assert len(service.repository.of_subject(session, SUBJECT)) == 2


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_forged_signature_and_tampered_field_fail(engine: Engine, algorithm: Algorithm) -> None:
    _setup(engine, algorithm)
    token = _issue(engine)
    issuers, lists = _published(engine)
    body, payload, signature, key_id = signing.decode_token(token)
    forged = signing.encode_token(body, bytes(64), key_id)
    assert service.verify_token(forged, issuers, lists, TODAY).outcome == "bad_signature"
    for field, value in (("validTo", "2099-12-31"), ("holder", "李**"), ("statusIndex", 5)):
        tampered = dict(payload, **{field: value})
        token2 = signing.encode_token(signing.canonical_json(tampered), signature, key_id)
        assert service.verify_token(token2, issuers, lists, TODAY).outcome == "bad_signature"
    assert service.verify_token("not-a-token", issuers, lists, TODAY).outcome == "bad_token"


def test_tampered_database_row_fails_online_verification(engine: Engine) -> None:
    _setup(engine)
    token = _issue(engine)
    cert_id = signing.decode_token(token)[1]["id"]
    with engine.begin() as connection:
        connection.execute(text("UPDATE certificate SET valid_to = :d"), {"d": date(2099, 1, 1)})
    with session_scope(engine) as session:
        assert service.verify_online(session, cert_id=cert_id, today=TODAY).outcome == (
            "bad_signature")


def test_unknown_issuer_and_unknown_key(engine: Engine) -> None:
    _setup(engine)
    token = _issue(engine)
    issuers, lists = _published(engine)
    assert service.verify_token(token, [], lists, TODAY).outcome == "unknown_issuer"
    malformed = [{"code": issuers[0]["code"], "keys": "not a list"}, {"nonsense": 1}]
    assert service.verify_token(token, malformed, lists, TODAY).outcome == "unknown_issuer"
    stripped = [dict(issuers[0], keys=[])]
    assert service.verify_token(token, stripped, lists, TODAY).outcome == "unknown_key"
    # a key of another department cannot vouch for this issuer
    with session_scope(engine) as session:
        service.generate_department_key(session, "health")
    issuers2, _ = _published(engine)
    health_keys = next(i for i in issuers2 if i["code"] == DEPARTMENTS["health"].code)["keys"]
    swapped = [dict(issuers[0], keys=health_keys)]
    assert service.verify_token(token, swapped, lists, TODAY).outcome == "unknown_key"


def test_revoked_token_replayed_fails_at_once(engine: Engine) -> None:
    _setup(engine)
    token = _issue(engine)
    cert_id = signing.decode_token(token)[1]["id"]
    with session_scope(engine) as session:
        assert service.verify_online(session, token=token, today=TODAY).valid
        service.set_status(session, cert_id, CertStatus.REVOKED, "holder deceased")
        assert service.verify_online(session, token=token, today=TODAY).outcome == "revoked"
    issuers, lists = _published(engine)
    assert service.verify_token(token, issuers, lists, TODAY).outcome == "revoked"
    with session_scope(engine) as session, pytest.raises(Conflict):
        service.set_status(session, cert_id, CertStatus.VALID, "reinstate")


def test_suspend_and_reinstate(engine: Engine) -> None:
    _setup(engine)
    token = _issue(engine)
    cert_id = signing.decode_token(token)[1]["id"]
    with session_scope(engine) as session:
        service.set_status(session, cert_id, CertStatus.SUSPENDED, "review")
        assert service.verify_online(session, token=token, today=TODAY).outcome == "suspended"
        service.set_status(session, cert_id, CertStatus.VALID, "review done")
        assert service.verify_online(session, token=token, today=TODAY).valid


def test_forged_status_list_is_not_trusted(engine: Engine) -> None:
    _setup(engine)
    token = _issue(engine)
    issuers, lists = _published(engine)
    code = DEPARTMENTS["civil_affairs"].code
    _body, payload, signature, key_id = signing.decode_token(lists[code])
    cleared = dict(payload, revocation=payload["suspension"], size=1)
    forged = signing.encode_token(signing.canonical_json(cleared), signature, key_id)
    assert service.verify_token(token, issuers, {code: forged}, TODAY).outcome == (
        "status_list_invalid")


def test_expired_and_not_yet_valid(engine: Engine) -> None:
    _setup(engine)
    token = _issue(engine, valid_to=TODAY + timedelta(days=30))
    issuers, lists = _published(engine)
    # far-future days: the status list (valid one day) is left out, expiry is about dates alone
    assert service.verify_token(token, issuers, None, TODAY + timedelta(days=30)).valid
    assert service.verify_token(token, issuers, None,
                                TODAY + timedelta(days=31)).outcome == "expired"
    assert service.verify_token(token, issuers, lists,
                                TODAY - timedelta(days=1)).outcome == "not_yet_valid"


def test_key_rotation_keeps_old_certificates_verifying(engine: Engine) -> None:
    _setup(engine)
    old_token = _issue(engine, grant_ref="before")
    with session_scope(engine) as session:
        new_key = service.generate_department_key(session, "civil_affairs")
    new_token = _issue(engine, grant_ref="after")
    old_kid, new_kid = signing.decode_token(old_token)[3], signing.decode_token(new_token)[3]
    assert new_kid == new_key.key_id != old_kid
    issuers, lists = _published(engine)
    assert [k["active"] for k in issuers[0]["keys"]] == [False, True]
    assert service.verify_token(old_token, issuers, lists, TODAY).valid
    assert service.verify_token(new_token, issuers, lists, TODAY).valid


def test_private_keys_are_encrypted_at_rest(engine: Engine) -> None:
    _setup(engine)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT private_key, public_key FROM cert_signing_key"))
        private, public = stored.one()
    assert private.split(".", 1)[0] == keyring().active_kid
    assert public not in private


def test_revoke_for_subject_on_death(engine: Engine) -> None:
    _setup(engine)
    _issue(engine, grant_ref="a")
    _issue(engine, grant_ref="b")
    other = _issue(engine, subject=keyring().subject_key("370602195101011238"))
    with session_scope(engine) as session:
        assert service.revoke_for_subject(session, SUBJECT, "death") == 2
        assert service.revoke_for_subject(session, SUBJECT, "death") == 0
        assert service.verify_online(session, token=other, today=TODAY).valid


def test_retired_key_does_not_vouch_for_later_certificates(engine: Engine) -> None:
    _setup(engine)
    with session_scope(engine) as session:
        code = DEPARTMENTS["civil_affairs"].code
        old = service.repository.active_key(session, code)
        assert old is not None
        old_key_id, old_algorithm, old_private = old.key_id, old.algorithm, old.private_key
        service.generate_department_key(session, "civil_affairs")
    token = _issue(engine)
    issuers, lists = _published(engine)
    _body, payload, _sig, _kid = signing.decode_token(token)
    # whoever still holds the retired private key signs a certificate dated after retirement
    later = dict(payload, issuedOn=(date.today() + timedelta(days=1)).isoformat())
    body = signing.canonical_json(later)
    forged = signing.encode_token(body, signing.sign(old_algorithm, old_private, body), old_key_id)
    assert service.verify_token(forged, issuers, lists, TODAY).outcome == "key_retired"


def test_stale_status_list_is_not_relied_on(engine: Engine) -> None:
    _setup(engine)
    token = _issue(engine)
    issuers, lists = _published(engine)
    later = date.today() + timedelta(days=2)
    assert service.verify_token(token, issuers, lists, later).outcome == "status_list_stale"
    assert service.verify_token(token, issuers, None, later).status_checked is False


def test_issuance_and_revocation_are_in_the_audit_log(engine: Engine) -> None:
    from app.audit import service as audit

    _setup(engine)
    token = _issue(engine)
    assert _issue(engine) == token  # idempotent re-run logs nothing new
    cert_id = signing.decode_token(token)[1]["id"]
    with session_scope(engine) as session:
        service.set_status(session, cert_id, CertStatus.REVOKED, "holder deceased")
        service.set_status(session, cert_id, CertStatus.REVOKED, "holder deceased")
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT kind, record_ref, data FROM audit_entry ORDER BY seq")).all()
    assert [(r.kind, r.record_ref) for r in rows] == [
        ("certificate_issued", cert_id), ("certificate_revoked", cert_id)]
    issued = json.loads(rows[0].data)["payload"]
    assert issued["holder_key"] == SUBJECT and "王秀英" not in rows[0].data
    with session_scope(engine) as session:
        assert audit.find_entry(session, f"certificate_revoked:{cert_id}").seq == 1
