"""The verification API's hot path as a small ASGI front: ``POST /api/v1/verify/person``
and the ``alive`` status check, answered without FastAPI's routing, dependency graph, request
model or response model when every condition of the ordinary answer is already known here.

It serves a request only when all of these hold: a bearer API key that this process's key cache
resolves on its own with the route's scope (``apikeys.authenticate_cached``, which also counts
the key's rate and raises the same 429), a ``Content-Type: application/json`` body that is a
JSON object whose fields have exactly the types and lengths the request model accepts
(``name`` ≤ 64, ``id_number`` ≤ 32 characters, ``kind`` = ``"alive"``), the registry on
PostgreSQL (the asynchronous ``lookups``) and no dependency overrides (tests). Anything else —
no key, a cookie, a cold or wrong key, a missing field, bad JSON, another status kind, SQLite —
goes on to the FastAPI routes with the body replayed, so every refusal and every 4xx message is
the routes' own. The check itself, the call log entry and the answer's content are those of the
routes (``service``); the answer's bytes are the same JSON FastAPI renders, built once per
outcome. The application (``app.main``) calls it before FastAPI's own middleware stack. A
database that refuses connections or has none free is a 503 in the standard error format; an
unexpected failure is a 500 in it, logged by type only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import apikeys
from app.auth.principal import Principal
from app.db import get_engine
from app.errors import MianshenError, RateLimited
from certs.verify import service
from certs.verify.call_log import CallLog, call_log_for
from certs.verify.lookups import PersonLookups, lookups_for

log = logging.getLogger("mianshen.web")

PERSON_PATH = "/api/v1/verify/person"
STATUS_PATH = "/api/v1/verify/status"
SCOPES = {PERSON_PATH: "verify:person", STATUS_PATH: "verify:status"}
JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")
MAX_BODY = 16_384  # larger bodies go the ordinary way


def render(content: dict[str, Any]) -> bytes:
    """JSON exactly as FastAPI's ``JSONResponse`` renders it (compact, UTF-8, not escaped)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


_answers: dict[tuple[str, str, bool | None, str], bytes] = {}


def _answer(check: str, outcome: str, matched: bool | None, message: str) -> bytes:
    key = (check, outcome, matched, message)
    body = _answers.get(key)
    if body is None:
        body = _answers[key] = render({"check": check, "outcome": outcome, "matched": matched,
                                       "message": message, "facts": {}})
    return body


class VerifyFastPath:
    """In front of ``app`` (the application's own ASGI entry); ``application`` is the FastAPI
    object whose state (``engine``) and dependency overrides apply (else ``scope["app"]``)."""

    def __init__(self, app: ASGIApp, application: Any = None) -> None:
        self.app, self.application = app, application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or path not in SCOPES or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        credential, content_type = _headers(scope)
        application = self.application or scope.get("app")
        if (credential is None or content_type not in JSON_TYPES or application is None
                or application.dependency_overrides):
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        if body is None:
            return  # the client went away
        query = _query(path, body)
        engine = application.state._state.get("engine") or get_engine()
        lookups = lookups_for(engine) if query is not None else None
        answer = b""
        try:
            caller = (apikeys.authenticate_cached(credential, SCOPES[path], engine)
                      if lookups is not None else None)
            if caller is not None and query is not None and lookups is not None:
                answer = await _check(path, query, lookups, call_log_for(engine), caller)
        except MianshenError as error:
            await _error(send, error.status_code, type(error).__name__, error.user_message,
                         error.retry_after_seconds if isinstance(error, RateLimited) else None)
            return
        except Exception as error:  # answered like the app's own handler
            log.error("unhandled %s on POST %s", type(error).__name__, path)
            await _error(send, 500, "internal_error", "系统繁忙,请稍后再试", None)
            return
        if caller is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await _send(send, 200, answer)


async def _check(path: str, query: dict[str, str], lookups: PersonLookups, call_log: CallLog,
                 caller: Principal) -> bytes:
    """The check run and logged by ``service``, answered as the route answers it."""
    if path == PERSON_PATH:
        person = await service.verify_person_async(lookups, call_log, caller, query["name"],
                                                   query["id_number"])
        return _answer("person", person.outcome, person.matched, person.message)
    alive = await service.verify_alive_async(lookups, call_log, caller, query["id_number"])
    if alive.facts:  # never for "alive" today
        return render({"check": f"status:{alive.kind}", "outcome": alive.outcome,
                       "matched": None, "message": alive.message, "facts": alive.facts})
    return _answer(f"status:{alive.kind}", alive.outcome, None, alive.message)


def _headers(scope: Scope) -> tuple[str | None, bytes]:
    """The bearer credential and the content type, read as Starlette's ``headers.get`` reads
    them (the first of each name)."""
    authorization: bytes | None = None
    content_type: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"authorization" and authorization is None:
            authorization = value
        elif name == b"content-type" and content_type is None:
            content_type = value.lower()
    credential = None
    if authorization is not None:
        scheme, _, presented = authorization.partition(b" ")
        if scheme.lower() == b"bearer" and presented.strip():
            credential = presented.strip().decode("latin-1")
    return credential, content_type or b""


async def _read(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the ordinary path: the body already read, then the client's messages."""
    replayed = False

    async def again() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


def _query(path: str, body: bytes) -> dict[str, str] | None:
    """The request's fields when the request model would accept them as they are, else None."""
    if len(body) > MAX_BODY:
        return None
    try:
        query = json.loads(body.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(query, dict):
        return None
    number = query.get("id_number")
    if type(number) is not str or len(number) > 32:
        return None
    if path == PERSON_PATH:
        name = query.get("name")
        if type(name) is not str or len(name) > 64:
            return None
        return {"name": name, "id_number": number}
    if query.get("kind") != "alive":
        return None
    return {"id_number": number}


async def _send(send: Send, status: int, body: bytes,
                extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-length", str(len(body)).encode()),
               (b"content-type", b"application/json"), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, code: str, message: str,
                 retry_after: int | None) -> None:
    extra = [(b"retry-after", str(retry_after).encode())] if retry_after else None
    await _send(send, status, render({"error": {"code": code, "message": message}}), extra)


