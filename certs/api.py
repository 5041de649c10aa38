"""HTTP routes of the e-certificate domain (mounted under ``/api/v1/certs``): published issuer
keys, per-issuer signed status lists, verification of a token or certificate id, and a
certificate's page and QR code. Handlers only parse, call ``service`` and answer. Department
API keys with scopes are not implemented yet: these routes are public read/verify endpoints.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app.auth.deps import current_principal, db_session
from app.auth.principal import Principal
from app.errors import NotFound
from app.personal_data.service import record_access
from certs import rendering, repository, service
from certs.models import Certificate
from certs.schemas import (
    CertificateView,
    PublishedIssuer,
    StatusListView,
    VerificationResult,
    VerifyRequest,
)

router = APIRouter(prefix="/certs", tags=["certs"])



def view_of(cert: Certificate) -> CertificateView:
    return CertificateView(
        cert_id=cert.cert_id, cert_type=cert.cert_type, type_code=cert.type_code,
        type_name=cert.type_name, cert_number=cert.cert_number, issued_on=cert.issued_on,
        issuer_code=cert.issuer_code, issuer_name=cert.issuer_name, valid_from=cert.valid_from,
        valid_to=cert.valid_to, holder=cert.holder_masked, subject_key_type=cert.subject_key_type,
        status=cert.status, status_index=cert.status_index, key_id=cert.key_id,
    )


VIEW_FIELDS = sorted(CertificateView.model_fields)


def _certificate(session: Session, cert_id: str) -> Certificate:
    cert = repository.get_certificate(session, cert_id)
    if cert is None:
        raise NotFound(f"certificate {cert_id} not found", service.MESSAGES["not_found"])
    return cert


@router.get("/issuers", response_model=list[PublishedIssuer])
def issuers(session: Session = Depends(db_session)) -> list[PublishedIssuer]:
    return service.published_issuers(session)


@router.get("/status/{issuer}", response_model=StatusListView)
def status(issuer: str, session: Session = Depends(db_session)) -> StatusListView:
    return service.status_list_for(session, issuer)


@router.post("/verify", response_model=VerificationResult)
def verify(request: VerifyRequest, session: Session = Depends(db_session),
           principal: Principal | None = Depends(current_principal)) -> VerificationResult:
    """Public (a verifier holds a token); a verification that reveals a holder's record is
    recorded in the access log."""
    checked = service.verify_online(session, token=request.token, cert_id=request.cert_id)
    if checked.certificate is not None:
        cert = repository.get_certificate(session, str(checked.certificate.get("id")))
        if cert is not None:
            record_access(session, principal, cert.subject_key, "certificate_verify",
                          sorted(checked.certificate))
    return checked


@router.get("/{cert_id}", response_model=CertificateView)
def show(cert_id: str, session: Session = Depends(db_session),
         principal: Principal | None = Depends(current_principal)) -> CertificateView:
    cert = _certificate(session, cert_id)
    record_access(session, principal, cert.subject_key, "certificate_show", VIEW_FIELDS)
    return view_of(cert)


@router.get("/{cert_id}/qr")
def qr(cert_id: str, kind: str = Query("svg", pattern="^(svg|png)$"),
       session: Session = Depends(db_session)) -> Response:
    token = service.token_of(_certificate(session, cert_id))
    media = "image/svg+xml" if kind == "svg" else "image/png"
    return Response(rendering.qr_code(token, kind), media_type=media)


@router.get("/{cert_id}/page", response_class=HTMLResponse)
def page(cert_id: str, session: Session = Depends(db_session),
         principal: Principal | None = Depends(current_principal)) -> HTMLResponse:
    cert = _certificate(session, cert_id)
    record_access(session, principal, cert.subject_key, "certificate_page", VIEW_FIELDS)
    return HTMLResponse(rendering.page(view_of(cert), service.token_of(cert)))
