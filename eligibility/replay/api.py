"""``GET /api/v1/audit/decisions/{id}/replay``: an auditor re-runs a stored decision."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from eligibility.replay.schemas import ReplayReport
from eligibility.replay.service import replay

router = APIRouter(prefix="/audit/decisions", tags=["audit"])


@router.get("/{decision_id}/replay", response_model=ReplayReport)
def replay_decision(
    decision_id: int,
    session: Session = UNIT_OF_WORK,
    _auditor: Principal = Depends(require_staff("auditor")),
) -> ReplayReport:
    """Re-evaluate the decision with its recorded policy version, parameters and inputs."""
    return replay(session, decision_id)
