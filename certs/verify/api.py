"""Routes of the verification service under ``/api/v1/verify``: real-name, enterprise and status
checks for department systems (API-key scopes ``verify:person``, ``verify:enterprise``,
``verify:status``) and the call log for auditors (staff role ``auditor``).

The check routes are the platform's hot path. On PostgreSQL the person check and the ``alive``
status await their one indexed lookup on the worker's asynchronous connections (``lookups``): no
worker thread, no ORM, the event loop free while the database answers. The other checks, and
every check on SQLite, run their Core queries in a worker thread on a small autocommit pool
without ``pool_pre_ping`` (the ping, BEGIN and the ROLLBACK on return would be three more round
trips per read-only request; a connection broken by a database restart fails one request and is
replaced). Then the call log's buffered append, and a response model that FastAPI serialises
straight to JSON bytes. A database that refuses connections or has none free answers 503.

Under the application, ``fastpath`` answers the person and ``alive`` checks of warm API keys
without these routes (same checks, call log and bytes); everything else arrives here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from app.auth.deps import require_scope, require_staff
from app.auth.principal import Principal
from app.db import database_or_503, get_engine
from certs.verify import repository, service
from certs.verify.call_log import call_log_for, close_all, subject_hash
from certs.verify.lookups import close_this_loop, lookups_for
from certs.verify.schemas import (
    CallSearch,
    CallView,
    CheckResult,
    EnterpriseQuery,
    PersonQuery,
    StatusQuery,
)
from certs.verify.status import StatusKind

T = TypeVar("T")

router = APIRouter(prefix="/verify", tags=["verify"], on_shutdown=[close_all, close_this_loop])


def _engine(request: Request) -> Engine:
    return getattr(request.app.state, "engine", None) or get_engine()


_lookup_engines: dict[int, Engine] = {}


def _lookups(engine: Engine) -> Engine:
    """The pool of the threaded checks: autocommit, no pre-ping."""
    if engine.dialect.name != "postgresql":
        return engine
    lookups = _lookup_engines.get(id(engine))
    if lookups is None:
        lookups = _lookup_engines[id(engine)] = create_engine(
            engine.url, pool_size=4, max_overflow=4, pool_pre_ping=False, pool_recycle=600,
            isolation_level="AUTOCOMMIT")
    return lookups


def _answer(check: str, outcome: str, message: str, matched: bool | None = None,
            facts: dict[str, object] | None = None) -> CheckResult:
    return CheckResult(check=check, outcome=outcome, matched=matched, message=message,
                       facts=facts or {})


@router.post("/person", response_model=CheckResult)
async def person(query: PersonQuery, request: Request,
                 caller: Principal = Depends(require_scope("verify:person"))) -> CheckResult:
    """实名核验: does the name belong to the ID number, and is the person alive?"""
    engine = _engine(request)
    call_log, lookups = call_log_for(engine), lookups_for(engine)
    if lookups is not None:
        result = await service.verify_person_async(lookups, call_log, caller, query.name,
                                                   query.id_number)
    else:
        result = await run_in_threadpool(_threaded, engine, service.verify_person, call_log,
                                         caller, query.name, query.id_number)
    return _answer("person", result.outcome, result.message, result.matched)


@router.post("/enterprise", response_model=CheckResult)
async def enterprise(query: EnterpriseQuery, request: Request,
                     caller: Principal = Depends(require_scope("verify:enterprise"))
                     ) -> CheckResult:
    """企业核验: USCC, name and legal representative against the market-entity registry."""
    engine = _engine(request)
    result = await run_in_threadpool(_threaded, engine, service.verify_enterprise,
                                     call_log_for(engine), caller, query.uscc, query.name,
                                     query.legal_rep)
    return _answer("enterprise", result.outcome, result.message, result.matched)


@router.post("/status", response_model=CheckResult)
async def status(query: StatusQuery, request: Request,
                 caller: Principal = Depends(require_scope("verify:status"))) -> CheckResult:
    """状态核验: alive, marital status, legal person, disability, 低保/特困, subsidies paid."""
    engine = _engine(request)
    call_log, lookups = call_log_for(engine), lookups_for(engine)
    if query.kind is StatusKind.ALIVE and lookups is not None:
        result = await service.verify_alive_async(lookups, call_log, caller, query.id_number)
    else:
        result = await run_in_threadpool(_threaded, engine, service.verify_status, call_log,
                                         caller, query.id_number, query.kind)
    return _answer(f"status:{result.kind}", result.outcome, result.message, None,
                   result.facts)


def _threaded(engine: Engine, check: Callable[..., T], *args: Any) -> T:
    with database_or_503(), _lookups(engine).connect() as connection:
        return check(connection, *args)


@router.post("/calls/search", response_model=list[CallView])
def calls(search: CallSearch, request: Request,
          _auditor: Principal = Depends(require_staff("auditor"))) -> list[CallView]:
    """The call log for auditors; calls still in the write buffer are written first."""
    engine = _engine(request)
    call_log_for(engine).flush()
    with database_or_503(), engine.connect() as connection:
        rows = repository.find_calls(
            connection, subject_hash=subject_hash(search.subject) if search.subject else None,
            caller_id=search.caller_id, check_kind=search.check_kind, since=search.since,
            until=search.until, limit=search.limit)
    return [CallView.model_validate(row._mapping) for row in rows]
