"""What a page or route needs at the HTTP edge of sign-in: setting and clearing the session
cookie (HttpOnly, SameSite=Lax, Secure from ``MIANSHEN_AUTH__COOKIE_SECURE``), the CSRF token
for a template's hidden ``csrf_token`` field, and the client address used for throttling."""

from __future__ import annotations

from fastapi import Request, Response

from app.auth.sessions import SignedIn
from app.auth.tokens import csrf_token_for
from app.settings import get_settings


def set_session_cookie(response: Response, signed_in: SignedIn) -> None:
    settings = get_settings().auth
    response.set_cookie(
        settings.cookie_name, signed_in.token,
        max_age=settings.session_absolute_minutes * 60, httponly=True,
        samesite="lax", secure=settings.cookie_secure, path="/",
    )


def clear_session_cookie(response: Response) -> None:
    settings = get_settings().auth
    response.delete_cookie(
        settings.cookie_name, httponly=True, samesite="lax", secure=settings.cookie_secure,
        path="/",
    )


def session_token(request: Request) -> str:
    return request.cookies.get(get_settings().auth.cookie_name, "")


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session, for ``<input name="csrf_token">``; empty when
    the request carries no session cookie."""
    token = session_token(request)
    return csrf_token_for(token) if token else ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
