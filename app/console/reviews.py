"""The review queue (复核人员, 政策专员): open review items — flagged grants (manual review) and
the policies' internal review step — each with its reasons, policy and amount, and a form that
records the officer's decision through ``eligibility.grants.review.decide_review`` (the item
keeps who decided, when and the note; the grant moves on or is rejected)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.console.rendering import console_page
from app.errors import MianshenError
from app.portal.labels import grant_state_zh
from eligibility.grants import queries
from eligibility.grants.context import SweepContext
from eligibility.grants.models import Grant
from eligibility.grants.review import decide_review

router = APIRouter(prefix="/officer/reviews", include_in_schema=False)
reviewers = require_staff("reviewer", "officer")
PAGE_SIZE = 50
REASONS_ZH = {
    "departments_disagree": "部门数据不一致", "no_mobile": "无可用手机号码,无法短信告知",
    "amount_above_threshold": "金额超过人工复核阈值", "refused_automation": "本人拒绝自动化决定",
}
KINDS_ZH = {"flagged": "标记复核", "internal": "内部审核"}


def officer_context(session: Session, who: Principal) -> SweepContext:
    """The unit of work of an officer's decision on one grant, recorded as theirs."""
    return SweepContext(session=session, backend_or_none=None, as_of=date.today(),
                        actor=f"officer:{who.id}")


def reasons_zh(reasons: str) -> str:
    return ";".join(REASONS_ZH.get(r, r) for r in reasons.split(",") if r) or "—"


def _queue(request: Request, session: Session, kind: str, after: int, error: str = "",
           status_code: int = 200) -> HTMLResponse:
    items = queries.reviews_page(session, after_id=after, limit=PAGE_SIZE + 1, kind=kind or None)
    more, items = len(items) > PAGE_SIZE, items[:PAGE_SIZE]
    grants = {g.id: g for g in session.exec(
        select(Grant).where(col(Grant.id).in_([i.grant_id for i in items])))}
    return console_page(request, "officer", "reviews.html", "复核队列", status_code=status_code,
                        items=items, grants=grants, kind=kind, error=error, kinds=KINDS_ZH,
                        reasons_zh=reasons_zh, state_zh=grant_state_zh,
                        next_after=items[-1].id if more and items else None)


@router.get("", response_class=HTMLResponse)
def queue(request: Request, kind: str = Query("", pattern="^(|flagged|internal)$"),
          after: int = Query(0, ge=0, le=2**31 - 1), session: Session = UNIT_OF_WORK,
          _who: Principal = Depends(reviewers)) -> HTMLResponse:
    return _queue(request, session, kind, after)


@router.post("/{review_id}", response_model=None)
def decide(request: Request, review_id: int = Path(ge=1, le=2**31 - 1),
           decision: str = Form(..., pattern="^(approve|reject)$"),
           note: str = Form("", max_length=2000), kind: str = Form("", max_length=16),
           session: Session = UNIT_OF_WORK,
           who: Principal = Depends(reviewers)) -> Response:
    ctx = officer_context(session, who)
    try:
        decide_review(ctx, review_id, decision == "approve", note.strip())
    except MianshenError as error:
        session.rollback()
        return _queue(request, session, kind, 0, error.user_message, error.status_code)
    suffix = f"&kind={kind}" if kind in KINDS_ZH else ""
    return RedirectResponse(f"/officer/reviews?done=decided{suffix}", status_code=303)
