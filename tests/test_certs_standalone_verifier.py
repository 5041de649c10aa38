"""``docs/certs-verifier.py`` (stdlib + cryptography, tongsuopy for SM2) agrees with the
service: valid, forged, tampered, revoked, expired and unknown-issuer tokens, run as a separate
process, for ECDSA P-256 and SM2 issuers."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.privacy import keyring
from certs import service, signing
from certs.models import CertStatus, CertType

VERIFIER = Path(__file__).resolve().parent.parent / "docs" / "certs-verifier.py"


def _run(token: str, issuers: Path, status: Path | None, today: str) -> tuple[int, str]:
    args = [sys.executable, str(VERIFIER), token, "--issuers", str(issuers), "--today", today]
    if status is not None:
        args += ["--status", str(status)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout.strip()


@pytest.mark.parametrize("algorithm", [signing.Algorithm.ECDSA_P256, signing.Algorithm.SM2])
def test_standalone_verifier(engine: Engine, tmp_path: Path,
                             algorithm: signing.Algorithm) -> None:
    with session_scope(engine) as session:
        service.generate_department_key(session, "transport", algorithm)
        cert = service.issue_certificate(
            session, CertType.BUS_CARD, keyring().subject_key("370602195001011234"), "张建国",
            "transport", date(2026, 1, 1), date(2027, 12, 31), issued_on=date(2026, 1, 1))
        token, cert_id, code = service.token_of(cert), cert.cert_id, cert.issuer_code
        issuers = tmp_path / "issuers.json"
        issuers.write_text(json.dumps([i.model_dump(mode="json")
                                       for i in service.published_issuers(session)]))
        status = tmp_path / "status.json"
        status.write_text(service.status_list_for(session, code).model_dump_json())
    today = date.today().isoformat()
    assert _run(token, issuers, status, today) == (0, "VALID ok")
    assert _run(token, issuers, None, today)[1] == "VALID ok (status not checked)"
    assert _run(token, issuers, status, "2028-01-01") == (1, "INVALID expired")
    _body, payload, signature, key_id = signing.decode_token(token)
    tampered = signing.encode_token(
        signing.canonical_json(dict(payload, validTo="2099-12-31")), signature, key_id)
    assert _run(tampered, issuers, status, today) == (1, "INVALID bad_signature")
    assert _run(token[:-2] + "zz", issuers, status, today) == (1, "INVALID unknown_key")
    empty = tmp_path / "none.json"
    empty.write_text("[]")
    assert _run(token, empty, status, today) == (1, "INVALID unknown_issuer")
    assert _run("garbage", issuers, status, today) == (1, "INVALID malformed")
    with session_scope(engine) as session:
        service.set_status(session, cert_id, CertStatus.REVOKED, "lost")
        status.write_text(service.status_list_for(session, code).model_dump_json())
    assert _run(token, issuers, status, today) == (1, "INVALID revoked")
