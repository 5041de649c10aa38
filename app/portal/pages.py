"""Page routes both portals share: a benefit's detail page (explanation, objection and
confirmation forms) and the two form posts, added to a portal's router by
:func:`add_benefit_routes`. The portal passes its own service (``benefit_detail``,
``object_to``, ``confirm`` with the same signatures), its sign-in dependency and its page
renderer, so ownership stays the portal's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK
from app.auth.principal import Principal
from app.errors import MianshenError
from app.portal.forms import bank_account
from app.portal.schemas import (
    GRANT_ID,
    BankAccountRequest,
    BenefitDetail,
    BenefitView,
    ObjectionView,
)
from app.web.templating import render

TEMPLATE = "portal/benefit.html"
FLASHES = {
    "objection": "您的异议已提交,工作人员将进行人工复核并告知结果。",
    "confirmed": "已确认,待遇将按规定发放。",
    "declined": "您已放弃该项待遇。",
}


class PortalService(Protocol):
    def benefit_detail(self, session: Session, principal: Principal, grant_id: int
                       ) -> BenefitDetail: ...

    def object_to(self, session: Session, principal: Principal, grant_id: int, text: str
                  ) -> ObjectionView: ...

    def confirm(self, session: Session, principal: Principal, grant_id: int, accept: bool,
                account: BankAccountRequest | None) -> BenefitView: ...


PageRenderer = Callable[..., HTMLResponse]


def page_renderer(audience: str, base_path: str, back_label: str,
                  flashes: dict[str, str] | None = None) -> PageRenderer:
    """``page(request, template, title, **context)`` for one portal: its navigation, logout,
    flash messages (``?done=...`` after a form) and templates under ``<audience>/``."""
    known = {**FLASHES, **(flashes or {})}

    def page(request: Request, template: str, title: str, **context: Any) -> HTMLResponse:
        values = {"flash": known.get(request.query_params.get("done", "")),
                  "logout_path": f"{base_path}/logout", "base_path": base_path,
                  "back_label": back_label, **context}
        name = template if "/" in template else f"{audience}/{template}"
        return render(request, name, values, audience=audience, title=title)

    return page


def add_benefit_routes(
    router: APIRouter, *, base_path: str, require: Callable[..., Principal | Awaitable[Principal]],
    service: PortalService, page: PageRenderer,
) -> None:
    def detail_page(request: Request, session: Session, who: Principal, grant_id: int,
                    **extra: Any) -> HTMLResponse:
        detail = service.benefit_detail(session, who, grant_id)
        return page(request, TEMPLATE, detail.benefit.title, detail=detail, **extra)

    @router.get("/benefits/{grant_id}", response_class=HTMLResponse)
    def benefit(request: Request, grant_id: int = GRANT_ID, who: Principal = Depends(require),
                session: Session = UNIT_OF_WORK) -> HTMLResponse:
        return detail_page(request, session, who, grant_id)

    @router.post("/benefits/{grant_id}/objection", response_model=None)
    def object_to(request: Request, grant_id: int = GRANT_ID,
                  text: str = Form("", max_length=1000), who: Principal = Depends(require),
                  session: Session = UNIT_OF_WORK) -> Response:
        try:
            service.object_to(session, who, grant_id, text)
        except MianshenError as error:
            if error.status_code == 404:
                raise
            return detail_page(request, session, who, grant_id,
                               objection_error=error.user_message, objection_text=text)
        return RedirectResponse(f"{base_path}/benefits/{grant_id}?done=objection",
                                status_code=303)

    @router.post("/benefits/{grant_id}/confirmation", response_model=None)
    def confirm(request: Request, grant_id: int = GRANT_ID, decision: str = Form("accept"),
                bank_name: str = Form("", max_length=64), holder: str = Form("", max_length=100),
                account_number: str = Form("", max_length=40), who: Principal = Depends(require),
                session: Session = UNIT_OF_WORK) -> Response:
        accept = decision == "accept"
        try:
            account = bank_account(bank_name, holder, account_number) \
                if accept and account_number else None
            service.confirm(session, who, grant_id, accept, account)
        except MianshenError as error:
            if error.status_code == 404:
                raise
            return detail_page(request, session, who, grant_id,
                               confirm_error=error.user_message)
        done = "confirmed" if accept else "declined"
        return RedirectResponse(f"{base_path}/benefits/{grant_id}?done={done}", status_code=303)
