"""The verification service: run one check for a caller and record the call in the call log.
API routes and the CLI both come through here, so no check goes unlogged. The caller's
transaction is read-only; the call log writes on its own connection (``call_log``).

``verify_*`` run on any database through a connection or session; ``verify_person_async`` and
``verify_alive_async`` are the API's PostgreSQL hot path (``lookups``), with the same outcomes.
"""

from __future__ import annotations

from datetime import date

from app.auth.principal import Principal
from certs.verify.call_log import CallLog, query_hash, subject_hash
from certs.verify.enterprise import EnterpriseCheck, check_enterprise, normalise_uscc
from certs.verify.lookups import PersonLookups
from certs.verify.person import (
    PersonCheck,
    check_person,
    judge_person,
    normalise_name,
    result_of,
    subject_of,
)
from certs.verify.repository import Executor
from certs.verify.status import StatusCheck, StatusKind, check_status, judge_alive
from certs.verify.status import result_of as status_result_of

PERSON = "person"
ENTERPRISE = "enterprise"


def _number(id_number: str) -> str:
    return (id_number or "").strip().upper()


def _record_person(call_log: CallLog, caller: Principal, name: str, id_number: str,
                   result: PersonCheck) -> PersonCheck:
    number = _number(id_number)
    call_log.record(caller, PERSON, subject_hash(number),
                    query_hash(PERSON, normalise_name(name or ""), number), result.outcome)
    return result


def _record_status(call_log: CallLog, caller: Principal, id_number: str,
                   result: StatusCheck) -> StatusCheck:
    number, check_kind = _number(id_number), f"status:{result.kind}"
    call_log.record(caller, check_kind, subject_hash(number), query_hash(check_kind, number),
                    result.outcome)
    return result


def verify_person(executor: Executor, call_log: CallLog, caller: Principal, name: str,
                  id_number: str, today: date | None = None) -> PersonCheck:
    result = check_person(executor, name, id_number, today)
    return _record_person(call_log, caller, name, id_number, result)


async def verify_person_async(lookups: PersonLookups, call_log: CallLog, caller: Principal,
                              name: str, id_number: str) -> PersonCheck:
    problem, key = subject_of(id_number)
    result = (result_of(problem) if problem is not None
              else judge_person(name, await lookups.person(key)))
    return _record_person(call_log, caller, name, id_number, result)


def verify_enterprise(executor: Executor, call_log: CallLog, caller: Principal, uscc: str,
                      name: str, legal_rep: str) -> EnterpriseCheck:
    result = check_enterprise(executor, uscc, name, legal_rep)
    code = normalise_uscc(uscc) or (uscc or "").strip().upper()
    call_log.record(caller, ENTERPRISE, subject_hash(code),
                    query_hash(ENTERPRISE, code, name or "", normalise_name(legal_rep or "")),
                    result.outcome)
    return result


def verify_status(executor: Executor, call_log: CallLog, caller: Principal, id_number: str,
                  kind: StatusKind, today: date | None = None) -> StatusCheck:
    result = check_status(executor, id_number, kind, today)
    return _record_status(call_log, caller, id_number, result)


async def verify_alive_async(lookups: PersonLookups, call_log: CallLog, caller: Principal,
                             id_number: str) -> StatusCheck:
    problem, key = subject_of(id_number)
    result = (status_result_of(StatusKind.ALIVE, problem) if problem is not None
              else judge_alive(await lookups.person(key)))
    return _record_status(call_log, caller, id_number, result)
