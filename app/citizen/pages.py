"""Pages of the citizen portal under ``/citizen`` (``require_citizen``; an anonymous visitor is
sent to the login page). They show the same data as ``/api/v1/me`` through ``service``; forms
post back here and redirect (303) to the page that shows the result."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_citizen
from app.auth.principal import Principal
from app.citizen import service
from app.portal.labels import CERT_STATUSES_ZH
from app.portal.pages import add_benefit_routes, page_renderer
from app.web.nav import NavItem, register
from certs import rendering
from certs import service as certs_service
from certs.api import view_of

router = APIRouter(prefix="/citizen", include_in_schema=False)
EXPORT_URL = "/api/v1/me/export"

register(
    "citizen",
    NavItem("我的待遇", "/citizen"),
    NavItem("发放记录", "/citizen/payments"),
    NavItem("电子证照", "/citizen/certificates"),
    NavItem("我的消息", "/citizen/messages"),
    NavItem("个人信息与权利", "/citizen/privacy"),
)
_page = page_renderer("citizen", "/citizen", "我的待遇",
                      {"refused": "已记录:今后涉及您的决定将由工作人员人工审核。"})


@router.get("", response_class=HTMLResponse)
def overview(request: Request, who: Principal = Depends(require_citizen),
             session: Session = UNIT_OF_WORK) -> HTMLResponse:
    benefits = service.benefits(session, who)
    return _page(request, "benefits.html", "我的待遇", profile=service.profile(session, who),
                 benefits=benefits)


@router.get("/payments", response_class=HTMLResponse)
def payments(request: Request, who: Principal = Depends(require_citizen),
             session: Session = UNIT_OF_WORK) -> HTMLResponse:
    return _page(request, "payments.html", "发放记录", payments=service.payments(session, who))


@router.get("/certificates", response_class=HTMLResponse)
def certificates(request: Request, who: Principal = Depends(require_citizen),
                 session: Session = UNIT_OF_WORK) -> HTMLResponse:
    certs = [view_of(c) for c in service.certificates(session, who)]
    return _page(request, "certificates.html", "电子证照", certificates=certs,
                 statuses=CERT_STATUSES_ZH)


@router.get("/certificates/{cert_id}", response_class=HTMLResponse)
def certificate(request: Request, cert_id: str = Path(max_length=96),
                who: Principal = Depends(require_citizen),
                session: Session = UNIT_OF_WORK) -> HTMLResponse:
    cert = service.certificate(session, who, cert_id)
    svg = rendering.qr_code(certs_service.token_of(cert), scale=5)
    qr_src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    return _page(request, "certificate.html", cert.type_name, cert=view_of(cert), qr_src=qr_src,
                 statuses=CERT_STATUSES_ZH)


@router.get("/messages", response_class=HTMLResponse)
def messages(request: Request, who: Principal = Depends(require_citizen),
             session: Session = UNIT_OF_WORK) -> HTMLResponse:
    return _page(request, "messages.html", "我的消息", messages=service.messages(session, who))


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, who: Principal = Depends(require_citizen),
            session: Session = UNIT_OF_WORK) -> HTMLResponse:
    return _page(request, "privacy.html", "个人信息与权利", profile=service.profile(session, who),
                 refusal=service.refusal(session, who), export_url=EXPORT_URL)


@router.post("/privacy/refuse-automation", response_model=None)
def refuse(who: Principal = Depends(require_citizen),
           session: Session = UNIT_OF_WORK) -> Response:
    service.refuse_automation(session, who)
    return RedirectResponse("/citizen/privacy?done=refused", status_code=303)


add_benefit_routes(router, base_path="/citizen", require=require_citizen, service=service,
                   page=_page)
