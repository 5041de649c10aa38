"""HTTP routes of the shared data platform (mounted under ``/api/v1``): department systems
push batches of data records for a catalog dataset and read back a batch's result. API key
with scope ``data:push``, of a source department of the dataset (``push``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Response
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_scope
from app.auth.principal import Principal
from app.datahub import push
from app.datahub.schemas import PushBatchIn, PushBatchResult

router = APIRouter(prefix="/data", tags=["data"])
PUSH_SCOPE = "data:push"
DATASET = Path(max_length=40, description="A catalog dataset, e.g. person, death_record.")
BATCH = Path(max_length=64, description="The batch id given when it was pushed.")


@router.post("/{dataset}/batches", response_model=PushBatchResult,
             responses={409: {"description": "batch id already used for other content"},
                        413: {"description": "more rows than a batch may hold"}})
def push_batch(body: PushBatchIn, response: Response, dataset: str = DATASET,
               principal: Principal = Depends(require_scope(PUSH_SCOPE)),
               session: Session = UNIT_OF_WORK) -> PushBatchResult:
    """Validate, quarantine and upsert one batch of rows, as the file import does; per-row
    errors come back without the values. Re-sending the same batch id and content is
    answered with the first result (header ``Idempotent-Replay: true``) and writes nothing."""
    result, replay = push.push_batch(session, dataset, body, principal)
    if replay:
        response.headers["Idempotent-Replay"] = "true"
    return result


@router.get("/{dataset}/batches/{batch_id}", response_model=PushBatchResult)
def batch_result(dataset: str = DATASET, batch_id: str = BATCH,
                 principal: Principal = Depends(require_scope(PUSH_SCOPE)),
                 session: Session = UNIT_OF_WORK) -> PushBatchResult:
    """A batch the caller's department pushed, with its counts and per-row errors."""
    return push.pushed(session, dataset, batch_id, principal)
