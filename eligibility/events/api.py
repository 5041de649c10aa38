"""HTTP route of life events (mounted under ``/api/v1``): ``POST /events``, a department
system's batch of events (at most 1,000), authorised by an API key with the ``events:push``
scope. Idempotent by (department, event id): a re-delivered event is reported ``duplicate`` and
changes nothing. Each event gets its own outcome; a bad one is ``rejected`` with a reason
(fields and problems, never the values sent) and does not hold up the others. A key bound to a
department may only push that department's events.

The service owns the transactions here (one per batch, redone per event if the batch fails),
so the route takes the engine rather than a request session.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from app.auth.deps import require_scope
from app.auth.principal import Principal
from app.db import get_engine
from eligibility.events.schemas import PushIn, PushResult
from eligibility.events.service import ingest_batch
from eligibility.sweeps.schedule import today_in_china

router = APIRouter(prefix="/events", tags=["events"])
PUSH_SCOPE = "events:push"


@router.post("", response_model=PushResult)
def push_events(
    body: PushIn, request: Request, principal: Principal = Depends(require_scope(PUSH_SCOPE))
) -> PushResult:
    engine = getattr(request.app.state, "engine", None) or get_engine()
    rows = list(enumerate(body.events))
    report, outcomes = ingest_batch(engine, rows, today_in_china(), principal.department)
    return PushResult(
        accepted=report.accepted, duplicates=report.duplicates, rejected=report.rejected,
        suspended_grants=report.suspended_grants, results=outcomes,
    )
