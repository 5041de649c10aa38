"""HTTP routes for staff over grants, decisions and the manual review queue (under
``/api/v1``): filtered, paginated lists, a grant with its history and ledger, a decision with
its provenance and explanation, and a reviewer's decision on a flagged case."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.errors import NotFound
from app.pagination import Page, PageParams, page_of, page_params
from app.privacy import subject_key_of
from eligibility.grants import queries
from eligibility.grants import repository as repo
from eligibility.grants.context import SweepContext
from eligibility.grants.review import decide_review
from eligibility.grants.schemas import (
    DecisionView,
    GrantDetail,
    GrantSummary,
    ReviewDecisionRequest,
    ReviewItemView,
)

router = APIRouter(tags=["grants"])

any_staff = require_staff()
decision_readers = require_staff("auditor", "officer", "reviewer", "approver")
reviewers = require_staff("reviewer", "officer")


def _subject(subject: str | None) -> str | None:
    return subject_key_of(subject) if subject else None


@router.get("/grants", response_model=Page[GrantSummary])
def list_grants(
    policy_id: str | None = Query(None, max_length=64),
    subject: str | None = Query(None, max_length=40, description="ID number, USCC or key."),
    state: str | None = Query(None, max_length=24),
    page: PageParams = Depends(page_params),
    session: Session = UNIT_OF_WORK,
    _staff: Principal = Depends(any_staff),
) -> Page[GrantSummary]:
    rows = queries.grants_page(session, after_id=page.after_id, limit=page.limit + 1,
                               policy_id=policy_id, subject_key=_subject(subject), state=state)
    return page_of(rows, page, GrantSummary.of, lambda g: g.id)


@router.get("/grants/{grant_id}", response_model=GrantDetail)
def show_grant(grant_id: int, session: Session = UNIT_OF_WORK,
               _staff: Principal = Depends(any_staff)) -> GrantDetail:
    detail = queries.grant_detail(session, grant_id)
    if detail is None:
        raise NotFound(f"grant {grant_id} not found", "未找到该待遇记录")
    return detail


@router.get("/decisions", response_model=Page[DecisionView])
def list_decisions(
    policy_id: str | None = Query(None, max_length=64),
    subject: str | None = Query(None, max_length=40, description="ID number, USCC or key."),
    eligible: bool | None = None,
    as_of: date | None = None,
    current_only: bool = False,
    page: PageParams = Depends(page_params),
    session: Session = UNIT_OF_WORK,
    _staff: Principal = Depends(decision_readers),
) -> Page[DecisionView]:
    rows = queries.decisions_page(
        session, after_id=page.after_id, limit=page.limit + 1, policy_id=policy_id,
        subject_key=_subject(subject), eligible=eligible, as_of=as_of, current_only=current_only,
    )
    return page_of(rows, page, DecisionView.of, lambda d: d.id)


@router.get("/decisions/{decision_id}", response_model=DecisionView)
def show_decision(decision_id: int, session: Session = UNIT_OF_WORK,
                  _staff: Principal = Depends(decision_readers)) -> DecisionView:
    decision = repo.decision(session, decision_id)
    if decision is None:
        raise NotFound(f"decision {decision_id} not found", "未找到该决定")
    return DecisionView.of(decision)


@router.get("/reviews", response_model=Page[ReviewItemView])
def list_reviews(
    status: str | None = Query("open", pattern="^(open|approved|rejected)$"),
    page: PageParams = Depends(page_params),
    session: Session = UNIT_OF_WORK,
    _staff: Principal = Depends(reviewers),
) -> Page[ReviewItemView]:
    rows = queries.reviews_page(session, after_id=page.after_id, limit=page.limit + 1,
                                status=status)
    return page_of(rows, page, ReviewItemView.of, lambda r: r.id)


@router.post("/reviews/{review_id}/decision", response_model=GrantSummary)
def decide(review_id: int, body: ReviewDecisionRequest,
           session: Session = UNIT_OF_WORK,
           officer: Principal = Depends(reviewers)) -> GrantSummary:
    ctx = SweepContext(session=session, backend_or_none=None, as_of=date.today(),
                       actor=f"officer:{officer.id}")
    return GrantSummary.of(decide_review(ctx, review_id, body.approve, body.note))
