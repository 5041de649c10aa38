"""JSON routes both portals share for a holder's grant: its detail with the explanation, the
confirmation (bank account where the policy asks) and an objection, added to a portal's API
router by :func:`add_benefit_api_routes` with the portal's own sign-in dependency and service
(ownership stays the portal's)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK
from app.auth.principal import Principal
from app.portal.pages import PortalService
from app.portal.schemas import (
    GRANT_ID,
    BenefitDetail,
    BenefitView,
    ConfirmRequest,
    ObjectionRequest,
    ObjectionView,
)


def add_benefit_api_routes(
    router: APIRouter, *, require: Callable[..., Principal | Awaitable[Principal]],
    service: PortalService,
) -> None:
    @router.get("/benefits/{grant_id}", response_model=BenefitDetail)
    def benefit(grant_id: int = GRANT_ID, who: Principal = Depends(require),
                session: Session = UNIT_OF_WORK) -> BenefitDetail:
        """One of the caller's grants with the plain-Chinese explanation of its decision."""
        return service.benefit_detail(session, who, grant_id)

    @router.post("/benefits/{grant_id}/objection", response_model=ObjectionView,
                 status_code=201)
    def object_to(body: ObjectionRequest, grant_id: int = GRANT_ID,
                  who: Principal = Depends(require),
                  session: Session = UNIT_OF_WORK) -> ObjectionView:
        """Object to the decision: pauses a public notice, else queues it for an officer."""
        return service.object_to(session, who, grant_id, body.text)

    @router.post("/benefits/{grant_id}/confirmation", response_model=BenefitView)
    def confirm(body: ConfirmRequest, grant_id: int = GRANT_ID,
                who: Principal = Depends(require),
                session: Session = UNIT_OF_WORK) -> BenefitView:
        """Accept (with the bank account where the policy asks) or decline a matched benefit."""
        return service.confirm(session, who, grant_id, body.accept,
                                                  body.account)
