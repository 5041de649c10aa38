"""Staff password sign-in page ``/staff/login`` (政策专员, 审批人, 复核人员, 审计员, 管理员) on
:func:`app.auth.staff.authenticate`: a session cookie, then back to the console page wanted
(only an ``/officer`` or ``/auditor`` path: no open redirect). ``/staff/logout`` ends it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth import sessions, staff
from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.auth.web import set_session_cookie
from app.errors import MianshenError
from app.web.signin import sign_out
from app.web.templating import render

router = APIRouter(include_in_schema=False)
CONSOLES = ("/officer", "/auditor")


def safe_next(target: str, who: Principal | None = None) -> str:
    if any(target == c or target.startswith(c + "/") for c in CONSOLES) and "//" not in target \
            and "\\" not in target:
        return target
    if who is not None and who.has_role("auditor") and not who.has_role("officer", "approver",
                                                                        "reviewer"):
        return "/auditor"
    return "/officer"


def _form(request: Request, username: str, next_path: str, error: str = "",
          status_code: int = 200) -> HTMLResponse:
    return render(request, "officer/signin.html",
                  {"username": username, "next": next_path, "error": error},
                  title="工作人员登录", status_code=status_code)


@router.get("/staff/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return _form(request, "", safe_next(next) if next else "")


@router.post("/staff/login", response_model=None)
def sign_in(request: Request, username: str = Form("", max_length=64),
            password: str = Form("", max_length=256), next: str = Form("", max_length=512),
            session: Session = UNIT_OF_WORK) -> Response:
    try:
        principal = staff.authenticate(session, username, password)
    except MianshenError as error:
        session.commit()  # keep the failed-attempt count that locks the account
        return _form(request, username, next, error.user_message, error.status_code)
    signed_in = sessions.start_session(session, principal)
    session.commit()  # before the cookie leaves: the next request may arrive first
    response = RedirectResponse(safe_next(next, principal), status_code=303)
    set_session_cookie(response, signed_in)
    return response


@router.post("/staff/logout", response_model=None)
def logout(request: Request, _who: Principal = Depends(require_staff()),
           session: Session = UNIT_OF_WORK) -> Response:
    return sign_out(request, session, "/staff/login")
