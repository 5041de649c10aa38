"""FastAPI dependencies for authorisation, built on one resolver, :func:`current_principal`.

Routes declare what they need — ``Depends(require_staff("officer"))``,
``Depends(require_citizen)``, ``Depends(require_enterprise)``,
``Depends(require_scope("verify:person"))`` — and ownership checks compare
``principal.subject_key`` with the record's subject.
Tests may replace :func:`current_principal` through ``app.dependency_overrides``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import Depends, Request
from sqlmodel import Session

from app.auth.principal import Principal
from app.db import get_engine, session_scope
from app.errors import Forbidden, Unauthenticated


def db_session(request: Request) -> Iterator[Session]:
    """One unit of work per request (``app.state.engine`` overrides the configured database)."""
    with session_scope(getattr(request.app.state, "engine", None) or get_engine()) as session:
        yield session


def current_principal(request: Request) -> Principal | None:
    """The caller, from the session cookie or an API key; ``None`` when anonymous.

    Filled in by the sign-in implementation (``request.state.principal``)."""
    return getattr(request.state, "principal", None)


def _signed_in(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthenticated("sign-in required", "请先登录")
    return principal


def require_staff(*roles: str) -> Callable[..., Principal]:
    """Staff with any of ``roles`` (any staff role when none are named)."""

    def dependency(principal: Principal | None = Depends(current_principal)) -> Principal:
        who = _signed_in(principal)
        if who.kind != "staff" or (roles and not who.has_role(*roles)):
            wanted = ", ".join(roles) or "any"
            raise Forbidden(f"staff role required: {wanted}", "您没有权限执行此操作")
        return who

    return dependency


def require_citizen(principal: Principal | None = Depends(current_principal)) -> Principal:
    who = _signed_in(principal)
    if who.kind != "citizen" or not who.subject_key:
        raise Forbidden("citizen sign-in required", "请以个人身份登录")
    return who


def require_enterprise(principal: Principal | None = Depends(current_principal)) -> Principal:
    who = _signed_in(principal)
    if who.kind != "enterprise" or not who.subject_key:
        raise Forbidden("enterprise sign-in required", "请以企业身份登录")
    return who


def require_scope(scope: str) -> Callable[..., Principal]:
    """A department system whose API key carries ``scope``."""

    def dependency(principal: Principal | None = Depends(current_principal)) -> Principal:
        who = _signed_in(principal)
        if who.kind != "department" or scope not in who.roles:
            raise Forbidden(f"API key scope required: {scope}", "接口权限不足")
        return who

    return dependency
