"""Signed-in HTTP clients of the live server for the API tests: one ``httpx.Client`` per
principal, each carrying its own session."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import Request

from app.auth.deps import current_principal
from app.auth.principal import Principal
from tests.web.conftest import LiveServer

HEADER = "X-Test-Principal"
_known: dict[str, Principal] = {}
_ids = itertools.count(1)


def _principal_from_header(request: Request) -> Principal | None:
    return _known.get(request.headers.get(HEADER, ""))


def citizen(subject_key: str) -> Principal:
    return Principal(kind="citizen", id=f"citizen:{subject_key[:8]}", subject_key=subject_key,
                     display_name="测试居民")


def enterprise(uscc: str) -> Principal:
    return Principal(kind="enterprise", id=f"enterprise:{uscc}", subject_key=uscc,
                     display_name="测试企业")


def signed_in_request(server: LiveServer, principal: Principal | None) -> dict[str, Any]:
    """Keyword arguments (headers, cookies) that make a request come from ``principal``."""
    server.app.dependency_overrides[current_principal] = _principal_from_header
    headers = {}
    if principal is not None:
        token = f"p{next(_ids)}"
        _known[token] = principal
        headers[HEADER] = token
    return {"headers": headers}


@contextmanager
def client_as(server: LiveServer, principal: Principal | None) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30, **signed_in_request(server, principal),
                      follow_redirects=False) as client:
        yield client
