"""Sign-in pages of the citizen and enterprise portals (``/citizen/login``,
``/enterprise/login``) on the sign-in services of ``app.auth``: step one asks for the identity
and sends the SMS code, step two takes the code, starts a session, sets the cookie and returns
to the page the visitor wanted (only a path of the same portal: no open redirect). Logout ends
the session. Errors are shown on the form, in Chinese, never as a crash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth import codes, sessions
from app.auth.deps import UNIT_OF_WORK, require_signed_in
from app.auth.principal import Principal
from app.auth.web import clear_session_cookie, client_ip, session_token, set_session_cookie
from app.errors import MianshenError
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Portal:
    audience: str
    home: str
    title: str
    identity_fields: tuple[tuple[str, str, str], ...]  # (form name, label, hint)


CITIZEN = Portal("citizen", "/citizen", "个人登录",
                 (("id_number", "公民身份号码", "18 位居民身份证号码"),))
ENTERPRISE = Portal("enterprise", "/enterprise", "企业登录",
                    (("uscc", "统一社会信用代码", "18 位统一社会信用代码"),
                     ("legal_rep_name", "法定代表人姓名",
                      "验证码将发送至法定代表人登记的手机号码")))


def safe_next(portal: Portal, target: str) -> str:
    if target == portal.home or (target.startswith(portal.home + "/") and "//" not in target
                                 and "\\" not in target and "/login" not in target):
        return target
    return portal.home


def _form(request: Request, portal: Portal, values: dict[str, str], *, step: int,
          message: str = "", error: str = "", status_code: int = 200) -> HTMLResponse:
    return render(request, "signin.html", {
        "portal": portal, "values": values, "step": step, "message": message, "error": error,
    }, audience="public", title=portal.title, status_code=status_code)


def _identity(values: dict[str, Any], portal: Portal) -> dict[str, str]:
    return {name: str(values.get(name, "")).strip()[:64] for name, _, _ in portal.identity_fields}


def _request_code(session: Session, portal: Portal, values: dict[str, str], ip: str) -> str:
    if portal is CITIZEN:
        return codes.request_citizen_code(session, values["id_number"], ip)
    return codes.request_enterprise_code(session, values["uscc"], values["legal_rep_name"], ip)


def _sign_in(session: Session, portal: Portal, values: dict[str, str], code: str, ip: str
             ) -> Principal:
    if portal is CITIZEN:
        return codes.sign_in_citizen(session, values["id_number"], code, ip)
    return codes.sign_in_enterprise(session, values["uscc"], code, ip)


def sign_out(request: Request, session: Session, to: str) -> Response:
    """End the request's session and clear its cookie, then go to ``to``."""
    token = session_token(request)
    if token:
        sessions.end_session(session, token)
        session.commit()
    response = RedirectResponse(to, status_code=303)
    clear_session_cookie(response)
    return response


def _routes(portal: Portal) -> None:
    base = portal.home

    @router.get(f"{base}/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "") -> HTMLResponse:
        return _form(request, portal, {"next": safe_next(portal, next)}, step=1)

    @router.post(f"{base}/login/code", response_class=HTMLResponse)
    async def send_code(request: Request, session: Session = UNIT_OF_WORK
                        ) -> HTMLResponse:
        form = await request.form()
        values = {**_identity(dict(form), portal),
                  "next": safe_next(portal, str(form.get("next", "")))}
        try:
            message = _request_code(session, portal, values, client_ip(request))
        except MianshenError as error:
            return _form(request, portal, values, step=1, error=error.user_message,
                         status_code=error.status_code)
        return _form(request, portal, values, step=2, message=message)

    @router.post(f"{base}/login", response_model=None)
    async def sign_in(request: Request, session: Session = UNIT_OF_WORK) -> Response:
        form = await request.form()
        values = {**_identity(dict(form), portal),
                  "next": safe_next(portal, str(form.get("next", "")))}
        code = str(form.get("code", "")).strip()[:12]
        try:
            principal = _sign_in(session, portal, values, code, client_ip(request))
        except MianshenError as error:
            return _form(request, portal, values, step=2, error=error.user_message,
                         status_code=error.status_code)
        signed_in = sessions.start_session(session, principal)
        session.commit()  # before the cookie leaves: the next request may arrive first
        response = RedirectResponse(values["next"], status_code=303)
        set_session_cookie(response, signed_in)
        return response

    @router.post(f"{base}/logout", response_model=None)
    def logout(request: Request, _who: Principal = Depends(require_signed_in),
               session: Session = UNIT_OF_WORK, csrf_token: str = Form("")) -> Response:
        return sign_out(request, session, "/")


_routes(CITIZEN)
_routes(ENTERPRISE)
