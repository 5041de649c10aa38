"""JSON API of the enterprise portal under ``/api/v1/enterprise/me`` (``require_enterprise``):
matched policies and near misses, a grant's explanation, confirmation (bank account) and
objection. Only the signed-in enterprise's own grants are reachable."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_enterprise
from app.auth.principal import Principal
from app.enterprise import service
from app.enterprise.schemas import EnterpriseOverview
from app.portal.api import add_benefit_api_routes

router = APIRouter(prefix="/enterprise/me", tags=["enterprise"])


@router.get("/policies", response_model=EnterpriseOverview)
def policies(who: Principal = Depends(require_enterprise),
             session: Session = UNIT_OF_WORK) -> EnterpriseOverview:
    """Matched policies with amounts, near misses with the failing conditions, and the rest."""
    return service.overview(session, who)


add_benefit_api_routes(router, require=require_enterprise, service=service)
