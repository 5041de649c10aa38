"""Pages of the enterprise portal under ``/enterprise`` (``require_enterprise``): the policy
overview (matched, near misses, the rest) and, through ``app.portal.pages``, each grant's
explanation with the confirmation and objection forms."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_enterprise
from app.auth.principal import Principal
from app.enterprise import service
from app.portal.pages import add_benefit_routes, page_renderer
from app.web.nav import NavItem, register

router = APIRouter(prefix="/enterprise", include_in_schema=False)

register("enterprise", NavItem("政策匹配", "/enterprise"))
_page = page_renderer("enterprise", "/enterprise", "政策匹配")


@router.get("", response_class=HTMLResponse)
def overview(request: Request, who: Principal = Depends(require_enterprise),
             session: Session = UNIT_OF_WORK) -> HTMLResponse:
    return _page(request, "overview.html", "政策匹配", overview=service.overview(session, who))


add_benefit_routes(router, base_path="/enterprise", require=require_enterprise, service=service,
                   page=_page)
