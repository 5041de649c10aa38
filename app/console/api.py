"""``GET /api/v1/decisions/{decision_id}/explanation``: the plain-Chinese explanation of a
stored decision for staff (the same view the citizen sees for their own benefit: summary,
each condition with its reasons, the data used with source and as-of date), evaluated on the
decision's own as-of date. The auditor console shows the same."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.errors import NotFound
from app.portal.explanations import explain_decision
from app.portal.schemas import ExplanationView
from eligibility.grants import repository as grants_repo
from eligibility.grants.models import Decision

router = APIRouter(tags=["grants"])
decision_readers = require_staff("auditor", "officer", "reviewer", "approver")


def decision_or_404(session: Session, decision_id: int) -> Decision:
    decision = grants_repo.decision(session, decision_id)
    if decision is None:
        raise NotFound(f"decision {decision_id} not found", "未找到该决定")
    return decision


@router.get("/decisions/{decision_id}/explanation", response_model=ExplanationView)
def explanation(decision_id: int = Path(ge=1, le=2**63 - 1),
                session: Session = UNIT_OF_WORK,
                _staff: Principal = Depends(decision_readers)) -> ExplanationView:
    decision = decision_or_404(session, decision_id)
    return explain_decision(session, decision.policy_id, decision.subject_key, decision)
