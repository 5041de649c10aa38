"""FastAPI dependencies for authorisation, built on one resolver, :func:`current_principal`.

Routes declare what they need — ``Depends(require_staff("officer"))``,
``Depends(require_citizen)``, ``Depends(require_enterprise)``,
``Depends(require_scope("verify:person"))`` — and ownership checks compare
``principal.subject_key`` with the record's subject.
Tests may replace :func:`current_principal` through ``app.dependency_overrides``.

The caller is found from ``Authorization: Bearer msk_...`` (a department API key) or the
session cookie (staff, citizens, enterprises). A cookie-authenticated unsafe request
(POST, PUT, PATCH, DELETE) must carry the session's CSRF token in the ``X-CSRF-Token`` header or
a ``csrf_token`` form field, else it is refused with 403.
"""

from __future__ import annotations

import hmac
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.auth import apikeys, sessions
from app.auth.principal import Principal
from app.auth.tokens import csrf_token_for
from app.auth.web import client_ip
from app.db import database_or_503, get_engine, session_scope
from app.errors import Forbidden, Unauthenticated
from app.settings import get_settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def db_session(request: Request) -> Iterator[Session]:
    """One unit of work per request (``app.state.engine`` overrides the configured database).

    Declare it as ``Depends(db_session, scope="function")``: FastAPI's default scope for a
    ``yield`` dependency ends it *after* the response is sent, so the client would have its 200
    before the commit (and never learn of a failed one)."""
    with session_scope(getattr(request.app.state, "engine", None) or get_engine()) as session:
        yield session


# ``Depends(db_session)`` would end (commit) only after the response is sent (FastAPI's default
# scope for a yield dependency): a client could read before the commit, or be told "done" about a
# transaction that then fails to commit. Every route takes ``UNIT_OF_WORK`` instead, which commits
# when the route function returns, before the response.
UNIT_OF_WORK = Depends(db_session, scope="function")


async def current_principal(request: Request) -> Principal | None:
    """The caller, from an API key or the session cookie; ``None`` when anonymous.

    A session this process has cached costs no database and no thread hop; otherwise it is
    resolved in one worker-thread hop with a connection of its own (no request session: a cached
    API key needs no database at all, and on two cores every hop counts)."""
    if hasattr(request.state, "principal"):
        principal: Principal | None = request.state.principal
        return principal
    engine = getattr(request.app.state, "engine", None) or get_engine()
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        principal = await run_in_threadpool(
            _resolve, engine, partial(apikeys.authenticate, client_ip=client_ip(request)),
            credential.strip(),
        )
    else:
        token = request.cookies.get(get_settings().auth.cookie_name, "")
        principal = sessions.cached_principal(token) if token else None
        if principal is None and token:
            principal = await run_in_threadpool(sessions.resolve_token, engine, token)
        if principal is not None and request.method not in SAFE_METHODS:
            await _check_csrf(request, token)
    request.state.principal = principal
    return principal


def _resolve(engine: Engine, resolver: Callable[[Session, str], Principal | None],
             presented: str) -> Principal | None:
    with database_or_503(), session_scope(engine) as session:
        return resolver(session, presented)


async def _check_csrf(request: Request, session_token: str) -> None:
    presented = request.headers.get(CSRF_HEADER, "")
    if not presented and request.headers.get("content-type", "").startswith(FORM_TYPES):
        field = (await request.form()).get(CSRF_FIELD)
        presented = field if isinstance(field, str) else ""
    if not presented or not hmac.compare_digest(presented, csrf_token_for(session_token)):
        raise Forbidden("CSRF token missing or wrong", "页面已过期,请刷新后重试")


def _signed_in(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthenticated("sign-in required", "请先登录")
    return principal


def require_signed_in(principal: Principal | None = Depends(current_principal)) -> Principal:
    """Anyone signed in, of any kind (for example logout and "who am I")."""
    return _signed_in(principal)


def require_staff(*roles: str) -> Callable[..., Principal]:
    """Staff with any of ``roles`` (any staff role when none are named)."""

    def dependency(principal: Principal | None = Depends(current_principal)) -> Principal:
        who = _signed_in(principal)
        if who.kind != "staff" or (roles and not who.has_role(*roles)):
            wanted = ", ".join(roles) or "any"
            raise Forbidden(f"staff role required: {wanted}", "您没有权限执行此操作")
        return who

    dependency.required_roles = roles  # type: ignore[attr-defined]
    return dependency


def citizen_only(principal: Principal | None) -> Principal:
    who = _signed_in(principal)
    if who.kind != "citizen" or not who.subject_key:
        raise Forbidden("citizen sign-in required", "请以个人身份登录")
    return who


async def require_citizen(principal: Principal | None = Depends(current_principal)
                          ) -> Principal:
    """A signed-in citizen (``async``: no I/O, so no thread hop on the portal's hot routes)."""
    return citizen_only(principal)


@dataclass(frozen=True)
class PendingSession:
    """A session cookie not yet resolved: the route resolves it on its own connection."""

    token: str

    def resolve(self, connection: Connection) -> Principal:
        """The signed-in citizen of this cookie, else 401/403 exactly as ``require_citizen``."""
        return citizen_only(sessions.resolve_on(connection, self.token))


async def citizen_or_pending(request: Request) -> Principal | PendingSession:
    """For the hottest read-only citizen route: the citizen when known without I/O (this
    process's session cache), else the cookie still to resolve, so that the route looks the
    session up on the connection it then queries with: one thread hop and one pooled
    connection per request instead of two. API keys, overrides of :func:`current_principal`
    (tests) and requests without a cookie take the ordinary path."""
    token = request.cookies.get(get_settings().auth.cookie_name, "")
    plain = (request.method in SAFE_METHODS and token and "authorization" not in request.headers
             and current_principal not in request.app.dependency_overrides
             and not hasattr(request.state, "principal"))
    if not plain:
        override = request.app.dependency_overrides.get(current_principal, current_principal)
        principal = override(request) if override is current_principal else override()
        if inspect.isawaitable(principal):
            principal = await principal
        return citizen_only(principal)
    cached = sessions.cached_principal(token)
    return citizen_only(cached) if cached is not None else PendingSession(token)


def require_enterprise(principal: Principal | None = Depends(current_principal)) -> Principal:
    who = _signed_in(principal)
    if who.kind != "enterprise" or not who.subject_key:
        raise Forbidden("enterprise sign-in required", "请以企业身份登录")
    return who


def require_scope(scope: str) -> Callable[..., Any]:
    """A department system whose API key carries ``scope`` (``async``: no I/O, so no thread hop
    on the verification hot path)."""

    async def dependency(principal: Principal | None = Depends(current_principal)) -> Principal:
        who = _signed_in(principal)
        if who.kind != "department" or scope not in who.roles:
            raise Forbidden(f"API key scope required: {scope}", "接口权限不足")
        return who

    dependency.required_scope = scope  # type: ignore[attr-defined]
    return dependency


def ensure_owner_or_staff(
    principal: Principal | None, subject_key: str, *staff_roles: str
) -> Principal:
    """For a record of ``subject_key``: its own citizen or enterprise, or staff (with any of
    ``staff_roles`` when named). 401 when anonymous, 403 otherwise — the same 403 whether the
    record belongs to someone else or the caller has the wrong kind, so nothing is revealed."""
    who = _signed_in(principal)
    if who.kind in ("citizen", "enterprise") and who.owns(subject_key):
        return who
    if who.kind == "staff" and (not staff_roles or who.has_role(*staff_roles)):
        return who
    raise Forbidden("not the record's owner nor staff", "您无权查看此记录")
