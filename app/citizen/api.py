"""JSON API of the citizen portal under ``/api/v1/me`` (``require_citizen``): the signed-in
citizen's own profile (masked), benefits with explanations, payments, e-certificates, messages,
objections, confirmations and whether automated decisions are refused (the refusal itself is
``POST /me/refuse-automation`` of ``app.personal_data``). Handlers parse, call ``service``
and answer; the request owns the transaction."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.auth.deps import UNIT_OF_WORK, PendingSession, citizen_or_pending, require_citizen
from app.auth.principal import Principal
from app.citizen import service
from app.citizen.schemas import PaymentView, ProfileView, RefusalView
from app.db import get_engine
from app.portal.api import add_benefit_api_routes
from app.portal.schemas import BenefitView
from certs import rendering
from certs import service as certs_service
from certs.api import view_of
from certs.schemas import CertificateView
from notifications.schemas import CitizenMessage

router = APIRouter(prefix="/me", tags=["citizen"])


@router.get("/profile", response_model=ProfileView)
def profile(who: Principal = Depends(require_citizen),
            session: Session = UNIT_OF_WORK) -> ProfileView:
    return service.profile(session, who)


@router.get("/benefits", response_model=list[BenefitView])
async def benefits(request: Request,
                   who: Principal | PendingSession = Depends(citizen_or_pending)) -> Response:
    """The citizen's benefits (their children's included), newest first. The hottest route, so
    a lean path: the session look-up (unless cached), the read-only query and the serialisation
    (pydantic-core, once, not validated again by FastAPI) run in a single worker-thread hop on
    one pooled autocommit connection; no unit of work, since nothing is written."""
    engine = getattr(request.app.state, "engine", None) or get_engine()
    body = await run_in_threadpool(service.benefits_json, engine, who)
    return Response(body, media_type="application/json")


@router.get("/payments", response_model=list[PaymentView])
def payments(who: Principal = Depends(require_citizen),
             session: Session = UNIT_OF_WORK) -> list[PaymentView]:
    return service.payments(session, who)


@router.get("/certificates", response_model=list[CertificateView])
def certificates(who: Principal = Depends(require_citizen),
                 session: Session = UNIT_OF_WORK) -> list[CertificateView]:
    return [view_of(c) for c in service.certificates(session, who)]


@router.get("/certificates/{cert_id}/qr", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
def certificate_qr(cert_id: str = Path(max_length=96), who: Principal = Depends(require_citizen),
                   session: Session = UNIT_OF_WORK) -> Response:
    cert = service.certificate(session, who, cert_id)
    return Response(rendering.qr_code(certs_service.token_of(cert)), media_type="image/svg+xml")


@router.get("/messages", response_model=list[CitizenMessage])
def messages(who: Principal = Depends(require_citizen),
             session: Session = UNIT_OF_WORK) -> list[CitizenMessage]:
    return service.messages(session, who)


@router.get("/automation-refusal", response_model=RefusalView)
def refusal(who: Principal = Depends(require_citizen),
            session: Session = UNIT_OF_WORK) -> RefusalView:
    return service.refusal(session, who)


add_benefit_api_routes(router, require=require_citizen, service=service)
