"""Sign-in routes (mounted under ``/api/v1/auth``): staff password login, citizen and
enterprise one-time-code login, logout and "who am I". Handlers parse, call the services
(``staff``, ``codes``, ``sessions``) and set or clear the session cookie; the web pages build
their HTML forms on the same services."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session

from app.auth import codes, sessions, staff
from app.auth.deps import UNIT_OF_WORK, require_signed_in
from app.auth.principal import Principal
from app.auth.schemas import (
    CitizenCodeRequest,
    CitizenLogin,
    CodeSent,
    EnterpriseCodeRequest,
    EnterpriseLogin,
    Me,
    StaffLogin,
)
from app.auth.web import (
    clear_session_cookie,
    client_ip,
    csrf_token,
    session_token,
    set_session_cookie,
)

router = APIRouter(prefix="/auth", tags=["auth"])


def _signed_in(session: Session, response: Response, principal: Principal) -> Me:
    signed_in = sessions.start_session(session, principal)
    # Committed before the cookie leaves: a yield dependency's own commit runs only after the
    # response is sent, and the client's next request could arrive first.
    session.commit()
    set_session_cookie(response, signed_in)
    return Me.of(principal, signed_in.csrf_token, signed_in.expires_at)


@router.post("/login")
def staff_login(body: StaffLogin, response: Response,
                session: Session = UNIT_OF_WORK) -> Me:
    """Staff sign-in with username and password; sets the session cookie."""
    return _signed_in(session, response, staff.authenticate(session, body.username,
                                                            body.password))


@router.post("/citizen/code")
def citizen_code(body: CitizenCodeRequest, request: Request,
                 session: Session = UNIT_OF_WORK) -> CodeSent:
    """Send a sign-in code to the registry mobile of this ID number (same answer either way)."""
    return CodeSent(message=codes.request_citizen_code(session, body.id_number,
                                                       client_ip(request)))


@router.post("/citizen/login")
def citizen_login(body: CitizenLogin, request: Request, response: Response,
                  session: Session = UNIT_OF_WORK) -> Me:
    principal = codes.sign_in_citizen(session, body.id_number, body.code, client_ip(request))
    return _signed_in(session, response, principal)


@router.post("/enterprise/code")
def enterprise_code(body: EnterpriseCodeRequest, request: Request,
                    session: Session = UNIT_OF_WORK) -> CodeSent:
    """Send a sign-in code to the legal representative's registry mobile."""
    return CodeSent(message=codes.request_enterprise_code(
        session, body.uscc, body.legal_rep_name, client_ip(request)))


@router.post("/enterprise/login")
def enterprise_login(body: EnterpriseLogin, request: Request, response: Response,
                     session: Session = UNIT_OF_WORK) -> Me:
    principal = codes.sign_in_enterprise(session, body.uscc, body.code, client_ip(request))
    return _signed_in(session, response, principal)


@router.post("/logout")
def logout(request: Request, response: Response, _who: Principal = Depends(require_signed_in),
           session: Session = UNIT_OF_WORK) -> dict[str, bool]:
    token = session_token(request)
    if token:
        sessions.end_session(session, token)
        session.commit()
    clear_session_cookie(response)
    return {"signed_out": True}


@router.get("/me")
def me(request: Request, who: Principal = Depends(require_signed_in)) -> Me:
    """The signed-in caller (and, for a cookie session, its CSRF token)."""
    return Me.of(who, csrf_token(request) or None)
