"""Objections (异议) for officers: the open objections to decisions, each with the holder's text
(decrypted for the officer only; it may be personal), the grant's policy and amount, and a form
that resolves it through ``eligibility.grants.review.resolve_objection``: during a public notice
upholding rejects the grant and dismissing resumes the notice; an objection at any other time
has its outcome recorded (grant history, audit log) with the grant's state unchanged. The
officer and note are recorded and the objector is told the outcome by SMS."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from app.auth.deps import UNIT_OF_WORK
from app.auth.principal import Principal
from app.console.rendering import console_page
from app.console.reviews import officer_context, reviewers
from app.errors import MianshenError
from app.portal.labels import grant_state_zh
from app.privacy import keyring
from app.web.nav import NavItem, register
from eligibility.grants.models import Grant, Objection
from eligibility.grants.review import resolve_objection

router = APIRouter(prefix="/officer/objections", include_in_schema=False)
PAGE_SIZE = 100

register("officer", NavItem("异议处理", "/officer/objections"))


def _open_objections(session: Session) -> list[tuple[Objection, Grant | None, str]]:
    rows = session.exec(select(Objection).where(col(Objection.status) == "open")
                        .order_by(col(Objection.id)).limit(PAGE_SIZE)).all()
    grants = {g.id: g for g in session.exec(
        select(Grant).where(col(Grant.id).in_([o.grant_id for o in rows])))}
    ring = keyring()
    return [(o, grants.get(o.grant_id), str(ring.decrypt_json(o.text_enc).get("text", "")))
            for o in rows]


def _page(request: Request, session: Session, error: str = "", status_code: int = 200
          ) -> HTMLResponse:
    return console_page(request, "officer", "objections.html", "异议处理",
                        status_code=status_code, rows=_open_objections(session), error=error,
                        state_zh=grant_state_zh)


@router.get("", response_class=HTMLResponse)
def objections(request: Request, session: Session = UNIT_OF_WORK,
               _who: Principal = Depends(reviewers)) -> HTMLResponse:
    return _page(request, session)


@router.post("/{objection_id}", response_model=None)
def resolve(request: Request, objection_id: int = Path(ge=1, le=2**31 - 1),
            outcome: str = Form(..., pattern="^(uphold|dismiss)$"),
            note: str = Form("", max_length=2000), session: Session = UNIT_OF_WORK,
            who: Principal = Depends(reviewers)) -> Response:
    try:
        resolve_objection(officer_context(session, who), objection_id,
                                             outcome == "uphold", note.strip())
    except MianshenError as error:
        session.rollback()
        return _page(request, session, error.user_message, error.status_code)
    return RedirectResponse("/officer/objections?done=resolved", status_code=303)
