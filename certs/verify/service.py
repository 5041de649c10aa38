"""The verification service: run one check for a caller and record the call in the call log.
API routes and the CLI both come through here, so no check goes unlogged. The caller's
transaction is read-only; the call log writes on its own connection (``call_log``)."""

from __future__ import annotations

from datetime import date

from app.auth.principal import Principal
from certs.verify.call_log import CallLog, query_hash, subject_hash
from certs.verify.enterprise import EnterpriseCheck, check_enterprise, normalise_uscc
from certs.verify.person import PersonCheck, check_person, normalise_name
from certs.verify.repository import Executor
from certs.verify.status import StatusCheck, StatusKind, check_status

PERSON = "person"
ENTERPRISE = "enterprise"


def verify_person(executor: Executor, call_log: CallLog, caller: Principal, name: str,
                  id_number: str, today: date | None = None) -> PersonCheck:
    result = check_person(executor, name, id_number, today)
    number = (id_number or "").strip().upper()
    call_log.record(caller, PERSON, subject_hash(number),
                    query_hash(PERSON, normalise_name(name or ""), number), result.outcome)
    return result


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
    number = (id_number or "").strip().upper()
    check_kind = f"status:{kind.value}"
    call_log.record(caller, check_kind, subject_hash(number), query_hash(check_kind, number),
                    result.outcome)
    return result
