"""The approval queue (审批人): submitted policy versions, each with an approve form. Four eyes:
an approver who wrote or submitted a version sees why they cannot approve it, and the service
refuses it anyway (``eligibility.registry.service.approve``)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.console.rendering import console_page
from app.errors import MianshenError, ValidationFailed
from eligibility.registry import repository, service
from eligibility.registry.models import PolicyVersion, VersionState

router = APIRouter(prefix="/officer/approvals", include_in_schema=False)
approver = require_staff("approver")
OWN_VERSION = "您是该版本的起草人或提交人。按照“四眼原则”,须由另一位审批人审批。"


def own_version(version: PolicyVersion, who: Principal) -> bool:
    return who.id in {version.author, version.submitted_by}


def _queue(request: Request, session: Session, who: Principal, error: str = "",
           status_code: int = 200) -> HTMLResponse:
    versions = repository.in_state(session, [VersionState.SUBMITTED])
    rows = [(v, OWN_VERSION if own_version(v, who) else "") for v in versions]
    return console_page(request, "officer", "approvals.html", "审批队列", status_code=status_code,
                        rows=rows, error=error, today=date.today())


@router.get("", response_class=HTMLResponse)
def queue(request: Request, session: Session = UNIT_OF_WORK,
          who: Principal = Depends(approver)) -> HTMLResponse:
    return _queue(request, session, who)


@router.post("/{version_id}", response_model=None)
def approve(request: Request, version_id: int = Path(ge=1, le=2**31 - 1),
            effective_from: str = Form("", max_length=10),
            session: Session = UNIT_OF_WORK,
            who: Principal = Depends(approver)) -> Response:
    try:
        since = _date_or_none(effective_from)
        version = service.resolve(session, str(version_id))
        service.approve(session, version, who.id, since)
    except MianshenError as error:
        if error.status_code == 404:
            raise
        session.rollback()
        return _queue(request, session, who, error.user_message, error.status_code)
    return RedirectResponse(f"/officer/versions/{version_id}?done=approved", status_code=303)


def _date_or_none(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"bad date {text!r}", "生效日期格式应为 YYYY-MM-DD") from None
