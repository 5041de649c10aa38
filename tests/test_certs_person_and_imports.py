"""Real-name verification against the population registry, and import of externally issued
e-certificates (accepted only when verified, else quarantined with a reason), both databases."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import select
from stdnum.cn import ric

from app.db import session_scope
from app.privacy import keyring
from certs import service, signing
from certs.imports import import_certificate
from certs.models import DEPARTMENTS, CertImport, CertStatus, CertType
from certs.verify.person import check_person
from tests.sms_support import add_death, add_person


def _id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


ALIVE, DEAD, ABSENT = _id("37060219500101123"), _id("37060219480305201"), _id("37060219700101555")
TODAY = date(2026, 11, 22)


def test_person_check_outcomes(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_person(session, ALIVE, name="王秀英", birth_date=date(1950, 1, 1))
        dead_key = add_person(session, DEAD, name="李建华", birth_date=date(1948, 3, 5))
        add_death(session, dead_key)
    with session_scope(engine) as session:
        assert check_person(session, "王秀英", ALIVE, TODAY).outcome == "match"
        assert check_person(session, "王秀", ALIVE, TODAY).outcome == "mismatch"
        assert check_person(session, "王秀英", ALIVE.lower(), TODAY).outcome == "match"
        assert check_person(session, "李建华", DEAD, TODAY).outcome == "deceased"
        assert check_person(session, "张三", DEAD, TODAY).outcome == "mismatch"
        assert check_person(session, "赵六", ABSENT, TODAY).outcome == "not_found"
        wrong_check = ALIVE[:-1] + ("0" if ALIVE[-1] != "0" else "1")
        assert check_person(session, "王秀英", wrong_check, TODAY).outcome == "invalid_id"
        assert check_person(session, "王秀英", "12345", TODAY).outcome == "invalid_id"
        assert check_person(session, "王秀英", _id("37060219500230123"),
                            TODAY).outcome == "invalid_birth_date"
        assert check_person(session, "王秀英", _id("37060220300101123"),
                            TODAY).outcome == "invalid_birth_date"


def _external(engine: Engine) -> tuple[str, list[dict], dict[str, str]]:
    """A disability card issued by the federation (standing in for another platform)."""
    with session_scope(engine) as session:
        service.generate_department_key(session, "disabled_federation")
        cert = service.issue_certificate(
            session, CertType.DISABILITY_CARD, keyring().subject_key(ALIVE), "王秀英",
            "disabled_federation", date(2025, 1, 1), date(2030, 1, 1), issued_on=date(2025, 1, 1))
        token = service.token_of(cert)
        code = DEPARTMENTS["disabled_federation"].code
        issuers = [i.model_dump(mode="json") for i in service.published_issuers(session)]
        return token, issuers, {code: service.status_list_for(session, code).token}


def test_import_accepts_verified_and_quarantines_the_rest(engine: Engine) -> None:
    token, issuers, lists = _external(engine)
    subject = keyring().subject_key(ALIVE)
    _body, payload, signature, key_id = signing.decode_token(token)
    tampered = signing.encode_token(
        signing.canonical_json(dict(payload, validTo="2099-01-01")), signature, key_id)
    with session_scope(engine) as session:
        accepted = import_certificate(session, token, issuers, lists, subject, TODAY)
        again = import_certificate(session, token, issuers, lists, subject, TODAY)
        bad = import_certificate(session, tampered, issuers, lists, subject, TODAY)
        unknown = import_certificate(session, "x" + token, [], lists, subject, TODAY)
        unchecked = import_certificate(session, token + " ", issuers, None, subject, TODAY)
    assert (accepted.outcome, accepted.reason) == ("accepted", "ok") and again.id == accepted.id
    assert (bad.outcome, bad.reason) == ("quarantined", "bad_signature")
    assert unknown.outcome == "quarantined"
    assert unchecked.id == accepted.id  # same token after trimming: no second row
    with session_scope(engine) as session:
        rows = session.exec(select(CertImport)).all()
        assert sorted(r.outcome for r in rows) == ["accepted", "quarantined", "quarantined"]


def test_import_quarantines_revoked_and_unchecked(engine: Engine) -> None:
    token, issuers, _lists = _external(engine)
    cert_id = signing.decode_token(token)[1]["id"]
    with session_scope(engine) as session:
        no_status = import_certificate(session, token, issuers, None, None, TODAY)
        assert (no_status.outcome, no_status.reason) == ("quarantined", "status_unchecked")
    with session_scope(engine) as session:
        service.set_status(session, cert_id, CertStatus.REVOKED, "withdrawn")
        code = DEPARTMENTS["disabled_federation"].code
        fresh = {code: service.status_list_for(session, code).token}
        # a different encoding of the same certificate is a new import, and is refused
        revoked = import_certificate(session, token + "\n", issuers, fresh, None, TODAY)
        assert revoked.id == no_status.id  # whitespace-trimmed: the same token, no new row
    with session_scope(engine) as session:
        session.delete(session.exec(select(CertImport)).one())
    with session_scope(engine) as session:
        revoked = import_certificate(session, token, issuers, fresh, None, TODAY)
        assert (revoked.outcome, revoked.reason) == ("quarantined", "revoked")
