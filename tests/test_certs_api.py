"""The e-certificate HTTP API over real HTTP on 127.0.0.1 (uvicorn), both databases: published
keys enable offline verification, revocation shows at once, QR and page render."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.main import create_app
from app.privacy import keyring
from certs import service
from certs.models import DEPARTMENTS, CertType
from tests.auth_support import bearer, citizen, new_key, session_cookie
from tests.sms_support import ServedApp


def test_verify_revoke_and_offline_keys_over_http(engine: Engine) -> None:
    with session_scope(engine) as session:
        service.generate_department_key(session, "transport")
        cert = service.issue_certificate(
            session, CertType.BUS_CARD, keyring().subject_key("370602195001011234"), "张建国",
            "transport", date(2026, 1, 1), None, grant_ref="g-1")
        cert_id, token = cert.cert_id, service.token_of(cert)
    api = create_app()
    api.state.engine = engine
    code = DEPARTMENTS["transport"].code
    holder_cookies, _csrf = session_cookie(engine, citizen(keyring().subject_key(
        "370602195001011234")))
    key = bearer(new_key(engine, "verify:status"))
    with ServedApp(api) as served, httpx.Client(base_url=served.url, timeout=10) as client, \
            httpx.Client(base_url=served.url, timeout=10, cookies=holder_cookies) as holder:
        issuers = client.get("/api/v1/certs/issuers").json()
        status = client.get(f"/api/v1/certs/status/{code}").json()
        assert service.verify_token(token, issuers, {code: status["token"]}).valid
        first = client.post("/api/v1/certs/verify", json={"token": token}).json()
        assert first["valid"] and first["message"] == "证照有效"
        by_id = client.post("/api/v1/certs/verify", json={"cert_id": cert_id}, headers=key)
        assert by_id.json()["valid"]
        assert client.post("/api/v1/certs/verify", json={"cert_id": cert_id}).status_code == 401
        assert client.get(f"/api/v1/certs/{cert_id}/qr").status_code == 401
        svg = holder.get(f"/api/v1/certs/{cert_id}/qr")
        assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
        page = holder.get(f"/api/v1/certs/{cert_id}/page").text
        assert "敬老乘车卡" in page and "张**" in page and "张建国" not in page
        with session_scope(engine) as session:
            service.revoke_for_subject(session, keyring().subject_key("370602195001011234"),
                                       "death")
        replay = client.post("/api/v1/certs/verify", json={"token": token}).json()
        assert replay["outcome"] == "revoked" and not replay["valid"]
        fresh = client.get(f"/api/v1/certs/status/{code}").json()["token"]
        assert service.verify_token(token, issuers, {code: fresh}).outcome == "revoked"
        missing = client.post("/api/v1/certs/verify", json={"cert_id": "1.2.156.3005.2.X"},
                              headers=key)
        assert missing.json()["outcome"] == "not_found"
        empty = client.post("/api/v1/certs/verify", json={})
        assert empty.status_code == 422
        assert client.get("/api/v1/certs/status/unknown").status_code == 404
