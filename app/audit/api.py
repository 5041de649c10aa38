"""HTTP routes of the audit log (under ``/api/v1/audit``): signed tree heads, an inclusion proof
for any entry and a consistency proof between two tree heads. Tree heads are public (anyone may
hold the log to them, as with Certificate Transparency); proofs reveal entry payloads, so they
are for auditors."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from app.audit import repository, service
from app.audit.schemas import ConsistencyProofView, InclusionProofView, TreeHeadView
from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.errors import NotFound

router = APIRouter(prefix="/audit", tags=["audit"])
auditors = require_staff("auditor")


@router.get("/tree-heads/latest", response_model=TreeHeadView)
def latest_tree_head(session: Session = UNIT_OF_WORK) -> TreeHeadView:
    tree_head = repository.latest_tree_head(session)
    if tree_head is None:
        raise NotFound("no signed tree head yet", "审计日志尚未发布树头")
    return service.tree_head_view(tree_head)


@router.get("/tree-heads", response_model=list[TreeHeadView])
def tree_heads(limit: int = Query(100, ge=1, le=1000),
               session: Session = UNIT_OF_WORK) -> list[TreeHeadView]:
    """The most recent signed tree heads, newest first."""
    return [service.tree_head_view(h) for h in repository.recent_tree_heads(session, limit)]


@router.get("/entries/{reference}/proof", response_model=InclusionProofView)
def inclusion_proof(reference: str, session: Session = UNIT_OF_WORK,
                    _auditor: Principal = Depends(auditors)) -> InclusionProofView:
    """``reference``: a sequence number or ``kind:record_id``."""
    return service.inclusion_proof(session, reference)


@router.get("/consistency", response_model=ConsistencyProofView)
def consistency_proof(old_size: int = Query(..., ge=1), new_size: int = Query(..., ge=1),
                      session: Session = UNIT_OF_WORK,
                      _auditor: Principal = Depends(auditors)) -> ConsistencyProofView:
    return service.consistency_proof(session, old_size, new_size)
