"""``mianshen verify``: the verification service (核验) from the command line — real-name,
enterprise and status checks, and the call log for auditors. Every check is recorded in the call
log like an API call, with the operator (``cli:<user>``) as caller. Queried names and numbers
are never printed back."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import Connection

from app.auth.principal import Principal
from app.cli.output import console, print_json
from app.db import get_engine
from certs.verify import repository, service
from certs.verify.call_log import CallLog, call_log_for, subject_hash
from certs.verify.status import StatusKind

app = typer.Typer(help="Identity verification (核验) against the registries; the call log.",
                  no_args_is_help=True)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON (for scripts).")


def _operator() -> Principal:
    return Principal(kind="staff", id=f"cli:{getpass.getuser()}", department="cli")


@contextmanager
def _checking() -> Iterator[tuple[Connection, CallLog]]:
    """A read connection and the call log, written before the command exits."""
    engine = get_engine()
    call_log = call_log_for(engine)
    try:
        with engine.connect() as connection:
            yield connection, call_log
    finally:
        call_log.close()


def _report(answer: dict[str, Any], ok: bool, json_output: bool) -> None:
    if json_output:
        print_json(answer)
    else:
        colour = "green" if ok else "red"
        facts = "".join(f" {k}={v}" for k, v in answer.get("facts", {}).items())
        console.print(f"[{colour}]{answer['outcome']}[/{colour}] {answer['message']}{facts}")
    if not ok:
        raise typer.Exit(1)


@app.command("person")
def verify_person(name: str, id_number: str, json_output: bool = JSON_OPTION) -> None:
    """Real-name check of NAME and ID_NUMBER: match, mismatch, deceased, not found, invalid.
    Exits 1 unless they match."""
    with _checking() as (connection, call_log):
        result = service.verify_person(connection, call_log, _operator(), name, id_number)
    _report(result.model_dump(), result.matched, json_output)


@app.command("enterprise")
def verify_enterprise(uscc: str, name: str, legal_rep: str,
                      json_output: bool = JSON_OPTION) -> None:
    """Check USCC, the entity NAME and its LEGAL_REP against the market-entity registry.
    Exits 1 unless all match and the entity is active."""
    with _checking() as (connection, call_log):
        result = service.verify_enterprise(connection, call_log, _operator(), uscc, name,
                                           legal_rep)
    _report(result.model_dump(), result.matched, json_output)


@app.command("status")
def verify_status(id_number: str, kind: StatusKind, json_output: bool = JSON_OPTION) -> None:
    """One status of the person with ID_NUMBER (KIND: alive, marital_status, legal_person,
    disability, social_assistance, elderly_subsidy, disability_subsidy, education).
    Exits 1 when the check could not be answered (invalid, not found, unsupported)."""
    with _checking() as (connection, call_log):
        result = service.verify_status(connection, call_log, _operator(), id_number, kind)
    unanswered = {"invalid_id", "invalid_birth_date", "not_found", "unsupported"}
    _report(result.model_dump(), result.outcome not in unanswered, json_output)


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@app.command("calls")
def calls(
    subject: str | None = typer.Option(None, help="ID number or USCC asked about (hashed first)."),
    caller: str | None = typer.Option(None, help="Caller: API key id or cli:<user>."),
    kind: str | None = typer.Option(None, help="person, enterprise or status:<kind>."),
    since: str | None = typer.Option(None, help="ISO time (UTC when no offset)."),
    until: str | None = typer.Option(None, help="ISO time, exclusive."),
    limit: int = typer.Option(100, min=1, max=100_000),
    json_output: bool = JSON_OPTION,
) -> None:
    """The verification call log for auditors, newest first (hashes, never the queried data)."""
    engine = get_engine()
    call_log_for(engine).flush()
    try:
        window = {"since": _when(since), "until": _when(until)}
    except ValueError as error:
        raise typer.BadParameter("times must be ISO 8601") from error
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in repository.find_calls(
            connection, subject_hash=subject_hash(subject) if subject else None,
            caller_id=caller, check_kind=kind, limit=limit, **window)]
    if json_output:
        print_json(rows)
        return
    columns: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("time (UTC)", lambda r: r["at"].isoformat(timespec="seconds")),
        ("caller", lambda r: r["caller_id"]), ("department", lambda r: r["department"]),
        ("check", lambda r: r["check_kind"]), ("subject hash", lambda r: r["subject_hash"]),
        ("outcome", lambda r: r["outcome"]),
    ]
    table = Table(*(name for name, _ in columns))
    for row in rows:
        table.add_row(*(cell(row) for _, cell in columns))
    console.print(table)
