"""``mianshen apikeys`` (department API keys), ``mianshen users`` (staff accounts) and
``mianshen sessions purge``: parsing, the unit of work and printing only; the work is in
``app.auth.apikeys``, ``app.auth.staff`` and ``app.auth.purge``.
An API key's secret is printed once, at creation; passwords are read from a prompt or stdin and
never echoed or logged."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from app.auth import apikeys as apikey_service
from app.auth import purge as purge_service
from app.auth import staff as staff_service
from app.cli.output import console, err_console, print_json
from app.db import session_scope
from app.errors import MianshenError

T = TypeVar("T")
apikeys = typer.Typer(help="Department API keys (部门系统): create, list, revoke.",
                      no_args_is_help=True)
users = typer.Typer(help="Staff accounts: add, list, disable.", no_args_is_help=True)
sessions = typer.Typer(help="Sign-in sessions and SMS sign-in codes: purge spent ones.",
                       no_args_is_help=True)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON.")


def _fail(error: MianshenError) -> NoReturn:
    err_console.print(Text.assemble(("error: ", "red"), str(error)), soft_wrap=True)
    raise typer.Exit(1)


def _unit_of_work(work: Callable[..., T]) -> T:
    try:
        with session_scope() as session:
            return work(session)
    except MianshenError as error:
        _fail(error)


@apikeys.command("create")
def create_key(
    department: str = typer.Option(..., help="Department code, e.g. civil_affairs."),
    scope: list[str] = typer.Option(..., help="Scope, repeatable: "
                                    + ", ".join(sorted(apikey_service.SCOPES))),
    rate: int | None = typer.Option(None, help="Requests per second (default from settings)."),
    description: str = typer.Option("", help="What system uses the key."),
) -> None:
    """Create a key; its secret is shown this once and cannot be recovered."""
    row, secret = _unit_of_work(
        lambda s: apikey_service.create_key(s, department, scope, rate, description)
    )
    console.print(f"key {row.key_id} for {row.department}, scopes {row.scopes}, "
                  f"{row.rate_per_second} requests/s")
    console.print("secret (shown once, send as 'Authorization: Bearer <secret>'):")
    print(secret)


@apikeys.command("list")
def list_keys(json_output: bool = JSON_OPTION) -> None:
    """Keys with department, scopes, rate, state and last use (never secrets)."""
    rows = _unit_of_work(apikey_service.list_keys)
    records: list[dict[str, Any]] = [
        {"key_id": r.key_id, "department": r.department, "scopes": r.scopes.split(),
         "rate_per_second": r.rate_per_second,
         "state": "active" if r.enabled and r.revoked_at is None else "revoked",
         "created_at": r.created_at, "last_used_at": r.last_used_at}
        for r in rows
    ]
    if json_output:
        print_json(records)
        return
    table = Table("key id", "department", "scopes", "rate/s", "state", "last used")
    for rec in records:
        table.add_row(str(rec["key_id"]), str(rec["department"]), " ".join(rec["scopes"]),
                      str(rec["rate_per_second"]), str(rec["state"]), str(rec["last_used_at"]))
    console.print(table)


@apikeys.command("revoke")
def revoke_key(key_id: str = typer.Argument(..., help="The key id (prefix) to revoke.")) -> None:
    """Revoke a key; every process refuses it within the key cache time (a few seconds)."""
    _unit_of_work(lambda s: apikey_service.revoke_key(s, key_id))
    console.print(f"key {key_id} revoked")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


@users.command("add")
def add_user(
    username: str = typer.Argument(...),
    role: list[str] = typer.Option(..., help="Role, repeatable: officer, approver, reviewer, "
                                   "auditor, admin."),
    display_name: str = typer.Option("", help="Name shown on pages."),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from the first line of stdin."),
) -> None:
    """Add a staff account (password from a prompt, or stdin with --password-stdin)."""
    password = _read_password(password_stdin)
    user = _unit_of_work(
        lambda s: staff_service.add_user(s, username, password, role, display_name)
    )
    console.print(f"staff user {user.username} added with roles {user.roles}")


@users.command("list")
def list_users(json_output: bool = JSON_OPTION) -> None:
    rows = _unit_of_work(staff_service.list_users)
    records: list[dict[str, Any]] = [
        {"username": u.username, "roles": u.roles.split(), "enabled": u.enabled,
         "locked_until": u.locked_until, "last_login_at": u.last_login_at}
        for u in rows
    ]
    if json_output:
        print_json(records)
        return
    table = Table("username", "roles", "enabled", "locked until", "last login")
    for rec in records:
        table.add_row(str(rec["username"]), " ".join(rec["roles"]), str(rec["enabled"]),
                      str(rec["locked_until"] or ""), str(rec["last_login_at"] or ""))
    console.print(table)


@users.command("disable")
def disable_user(username: str = typer.Argument(...)) -> None:
    """Disable an account and end its sessions."""
    _unit_of_work(lambda s: staff_service.disable_user(s, username))
    console.print(f"staff user {username} disabled")


@sessions.command("purge")
def purge_sessions(json_output: bool = JSON_OPTION) -> None:
    """Delete sessions and sign-in codes spent more than MIANSHEN_AUTH__PURGE_AFTER_HOURS ago
    (the Celery beat does it hourly; the server does it itself without Redis)."""
    report = _unit_of_work(purge_service.purge_expired)
    if json_output:
        print_json(report.model_dump(mode="json"))
        return
    console.print(f"purged {report.sessions:,} sessions and {report.codes:,} sign-in codes "
                  f"spent before {report.before:%Y-%m-%d %H:%M} UTC")
