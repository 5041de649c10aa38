"""HTTP routes of the e-certificate domain (mounted under ``/api/v1/certs``): published issuer
keys, per-issuer signed status lists, verification of a token or certificate id, and a
certificate's page and QR code. Handlers only parse, call ``service`` and answer.

Access: issuer keys, status lists and verification of a signed token are public (anyone holding
a QR code may check it). Looking a certificate up by its id (verify by id, show, QR, page) is
for its holder (citizen or enterprise), staff, or — verify by id only — a department system
whose API key carries ``verify:status``; ids are structured and guessable, tokens are not.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, current_principal, ensure_owner_or_staff
from app.auth.principal import Principal
from app.errors import Forbidden, NotFound
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
VERIFY_BY_ID_SCOPE = "verify:status"


def view_of(cert: Certificate) -> CertificateView:
    return CertificateView(
        cert_id=cert.cert_id, cert_type=cert.cert_type, type_code=cert.type_code,
        type_name=cert.type_name, cert_number=cert.cert_number, issued_on=cert.issued_on,
        issuer_code=cert.issuer_code, issuer_name=cert.issuer_name, valid_from=cert.valid_from,
        valid_to=cert.valid_to, holder=cert.holder_masked, subject_key_type=cert.subject_key_type,
        status=cert.status, status_index=cert.status_index, key_id=cert.key_id,
    )


VIEW_FIELDS = sorted(CertificateView.model_fields)


def _certificate(session: Session, cert_id: str, who: Principal | None) -> Certificate:
    """The certificate, if ``who`` may see it (a missing one answers 404 only to staff)."""
    cert = repository.get_certificate(session, cert_id)
    ensure_owner_or_staff(who, cert.subject_key if cert else "")
    if cert is None:
        raise NotFound(f"certificate {cert_id} not found", service.MESSAGES["not_found"])
    return cert


@router.get("/issuers", response_model=list[PublishedIssuer])
def issuers(session: Session = UNIT_OF_WORK) -> list[PublishedIssuer]:
    return service.published_issuers(session)


@router.get("/status/{issuer}", response_model=StatusListView)
def status(issuer: str, session: Session = UNIT_OF_WORK) -> StatusListView:
    return service.status_list_for(session, issuer)


@router.post("/verify", response_model=VerificationResult)
def verify(request: VerifyRequest, session: Session = UNIT_OF_WORK,
           who: Principal | None = Depends(current_principal)) -> VerificationResult:
    """Public with a token (a verifier holds one); by id for the holder, staff or a department
    key with the scope. A verification that reveals a holder's record is in the access log."""
    if request.token is None and request.cert_id is not None:
        _may_verify_by_id(session, request.cert_id, who)
    checked = service.verify_online(session, token=request.token, cert_id=request.cert_id)
    if checked.certificate is not None:
        cert = repository.get_certificate(session, str(checked.certificate.get("id")))
        if cert is not None:
            record_access(session, who, cert.subject_key, "certificate_verify",
                          sorted(checked.certificate))
    return checked


def _may_verify_by_id(session: Session, cert_id: str, who: Principal | None) -> None:
    if who is not None and who.kind == "department":
        if not who.has_role(VERIFY_BY_ID_SCOPE):
            raise Forbidden(f"API key scope required: {VERIFY_BY_ID_SCOPE}", "接口权限不足")
        return
    cert = repository.get_certificate(session, cert_id)
    ensure_owner_or_staff(who, cert.subject_key if cert else "")


@router.get("/{cert_id}", response_model=CertificateView)
def show(cert_id: str, session: Session = UNIT_OF_WORK,
         who: Principal | None = Depends(current_principal)) -> CertificateView:
    cert = _certificate(session, cert_id, who)
    record_access(session, who, cert.subject_key, "certificate_show", VIEW_FIELDS)
    return view_of(cert)


@router.get("/{cert_id}/qr")
def qr(cert_id: str, kind: str = Query("svg", pattern="^(svg|png)$"),
       session: Session = UNIT_OF_WORK,
       who: Principal | None = Depends(current_principal)) -> Response:
    token = service.token_of(_certificate(session, cert_id, who))
    media = "image/svg+xml" if kind == "svg" else "image/png"
    return Response(rendering.qr_code(token, kind), media_type=media)


@router.get("/{cert_id}/page", response_class=HTMLResponse)
def page(cert_id: str, session: Session = UNIT_OF_WORK,
         who: Principal | None = Depends(current_principal)) -> HTMLResponse:
    cert = _certificate(session, cert_id, who)
    record_access(session, who, cert.subject_key, "certificate_page", VIEW_FIELDS)
    return HTMLResponse(rendering.page(view_of(cert), service.token_of(cert)))
