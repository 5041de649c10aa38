"""Signed-in HTTP clients of the live server for the web tests: each principal gets a real
session from the sign-in service (cookie and CSRF header), as a browser would after logging in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from app.auth.principal import Principal
from tests.auth_support import session_cookie
from tests.web.conftest import LiveServer


def citizen(subject_key: str) -> Principal:
    return Principal(kind="citizen", id=f"citizen:{subject_key[:8]}", subject_key=subject_key,
                     display_name="测试居民")


def enterprise(uscc: str) -> Principal:
    return Principal(kind="enterprise", id=f"enterprise:{uscc}", subject_key=uscc,
                     display_name="测试企业")


def signed_in_request(server: LiveServer, principal: Principal | None) -> dict[str, Any]:
    """Keyword arguments (headers) that make a request come from ``principal``'s session."""
    if principal is None:
        return {"headers": {}}
    cookies, csrf = session_cookie(server.app.state.engine, principal)
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return {"headers": {"Cookie": cookie, **csrf}}


@contextmanager
def client_as(server: LiveServer, principal: Principal | None) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30, **signed_in_request(server, principal),
                      follow_redirects=False) as client:
        yield client
