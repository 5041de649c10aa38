"""SM2/SM3 issuer keys (国密, through tongsuopy): rotation between algorithms keeps old
certificates verifying, and a signature is only accepted under the algorithm it was made with."""

from __future__ import annotations

import base64
from datetime import date

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.privacy import keyring
from certs import service, signing, sm2
from certs.models import DEPARTMENTS, CertType
from certs.signing import Algorithm

TODAY = date(2026, 11, 22)


def test_sm2_signatures_are_bound_to_key_and_message() -> None:
    key = signing.generate_key(Algorithm.SM2)
    signature = signing.sign(key.algorithm, key.encrypted_private_key, b"payload")
    assert signing.verify(key.algorithm, key.public_key_b64, signature, b"payload")
    assert not signing.verify(key.algorithm, key.public_key_b64, signature, b"payloaD")
    other = signing.generate_key(Algorithm.SM2)
    assert not signing.verify(other.algorithm, other.public_key_b64, signature, b"payload")
    # the same bytes claimed under another algorithm, or a P-256 key claimed as SM2, fail
    assert not signing.verify(Algorithm.ECDSA_P256, key.public_key_b64, signature, b"payload")
    p256 = signing.generate_key(Algorithm.ECDSA_P256)
    assert not sm2.verify(base64.b64decode(p256.public_key_b64), signature, b"payload")
    assert not signing.verify(Algorithm.SM2, "not base64!", signature, b"payload")
    assert not signing.verify(Algorithm.SM2, key.public_key_b64, b"\x30\x00", b"payload")


def test_rotation_from_ed25519_to_sm2_keeps_old_certificates(engine: Engine) -> None:
    subject = keyring().subject_key("370602195001011234")
    with session_scope(engine) as session:
        service.generate_department_key(session, "civil_affairs", Algorithm.ED25519)
        old = service.token_of(service.issue_certificate(
            session, CertType.ELDERLY_CARD, subject, "王秀英", "civil_affairs", TODAY, None,
            grant_ref="g-1", issued_on=TODAY))
    with session_scope(engine) as session:
        rotated = service.generate_department_key(session, "civil_affairs", Algorithm.SM2)
        new = service.token_of(service.issue_certificate(
            session, CertType.ELDERLY_CARD, subject, "王秀英", "civil_affairs", TODAY, None,
            grant_ref="g-2", issued_on=TODAY))
        issuers = [i.model_dump(mode="json") for i in service.published_issuers(session)]
        code = DEPARTMENTS["civil_affairs"].code
        lists = {code: service.status_list_for(session, code).token}
    assert rotated.algorithm == "sm2-sm3"
    assert signing.decode_token(new)[3] == rotated.key_id
    for token in (old, new):
        result = service.verify_token(token, issuers, lists, today=TODAY)
        assert result.valid and result.status_checked, result
