"""``mianshen policy submit|approve|retire|list|versions|show|publish``: the policy lifecycle in
the registry. Parsing, the unit of work and printing only; the rules are in
``eligibility.registry.service`` (four eyes, idempotent submission, audit entries)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

import typer
from rich.table import Table

from app.cli.output import console, err_console, print_json
from app.cli.policy import app
from app.db import session_scope
from app.errors import MianshenError
from eligibility.policy import PolicyError
from eligibility.registry import service
from eligibility.registry.catalog import publish_folder
from eligibility.registry.models import VersionState
from eligibility.registry.schemas import VersionDetail, VersionView
from eligibility.service import POLICY_DIR

JSON = typer.Option(False, "--json", help="Print JSON.")


def _fail(error: Exception) -> NoReturn:
    err_console.print(f"[red]error:[/red] {error}", highlight=False)
    raise typer.Exit(1)


def _print_version(view: VersionView, json_output: bool) -> None:
    if json_output:
        print_json(view.model_dump(mode="json"))
        return
    since = f", in force from {view.effective_from}" if view.effective_from else ""
    console.print(f"{view.policy_id} {view.content_hash} #{view.id}: {view.state}{since}")


@app.command()
def submit(
    file: Path = typer.Argument(..., help="Policy YAML file."),
    author: str = typer.Option(..., "--author", help="Who wrote it (user id)."),
    json_output: bool = JSON,
) -> None:
    """Store FILE in the registry and submit it for approval (identical text: no change)."""
    try:
        text = file.read_text(encoding="utf-8")
        with session_scope() as session:
            version, issues = service.create_draft(session, text, author)
            if issues:
                raise PolicyError(issues, str(file))
            view = VersionView.of(service.submit(session, version, author))
    except (OSError, UnicodeDecodeError, PolicyError, MianshenError) as error:
        _fail(error)
    _print_version(view, json_output)


@app.command()
def approve(
    reference: str = typer.Argument(..., help="Policy id (its one submitted version) or hash."),
    approver: str = typer.Option(..., "--approver", help="Who approves (not the author)."),
    effective_from: datetime | None = typer.Option(
        None, "--effective-from", formats=["%Y-%m-%d"],
        help="In force from YYYY-MM-DD (default: today, or the policy's own start if later).",
    ),
    json_output: bool = JSON,
) -> None:
    """Approve a submitted version (four eyes); it is logged in the audit log."""
    try:
        with session_scope() as session:
            version = service.resolve(session, reference, (VersionState.SUBMITTED,))
            since = effective_from.date() if effective_from else None
            view = VersionView.of(service.approve(session, version, approver, since))
    except MianshenError as error:
        _fail(error)
    _print_version(view, json_output)


@app.command()
def retire(
    reference: str = typer.Argument(..., help="Policy id (its one approved version) or hash."),
    by: str = typer.Option(..., "--by", help="Who retires it."),
    json_output: bool = JSON,
) -> None:
    """Retire an approved version: it is never in force again (logged in the audit log)."""
    try:
        with session_scope() as session:
            version = service.resolve(session, reference, (VersionState.APPROVED,))
            view = VersionView.of(service.retire(session, version, by))
    except MianshenError as error:
        _fail(error)
    _print_version(view, json_output)


@app.command("list")
def list_policies(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Version in force on this date (default today)."
    ),
    json_output: bool = JSON,
) -> None:
    """Policies in the registry: versions held, the latest state, the version in force."""
    on = as_of.date() if as_of else date.today()
    with session_scope() as session:
        rows = service.summaries(session, on)
    if json_output:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("policy", "title", "versions", "latest", f"in force {on}", "since")
    for r in rows:
        table.add_row(r.policy_id, r.title, str(r.versions), r.latest_state,
                      (r.in_force_hash or "-")[:16], str(r.in_force_from or "-"))
    console.print(table)


@app.command()
def versions(
    policy: str = typer.Argument(..., help="Policy id."),
    json_output: bool = JSON,
) -> None:
    """Every version of POLICY held, oldest first, with who did what when."""
    from eligibility.registry import repository

    with session_scope() as session:
        rows = [VersionView.of(v) for v in repository.versions_of(session, policy)]
    if json_output:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("#", "hash", "state", "author", "approver", "in force from", "retired by")
    for r in rows:
        table.add_row(str(r.id), (r.content_hash or "-")[:16], r.state, r.author,
                      r.approved_by or "-", str(r.effective_from or "-"), r.retired_by or "-")
    console.print(table if rows else f"no versions of {policy!r}")


@app.command()
def show(
    reference: str = typer.Argument(..., help="Content hash (or a prefix of 8+), or row id."),
    json_output: bool = JSON,
) -> None:
    """One version with its exact stored text."""
    try:
        with session_scope() as session:
            detail = VersionDetail.of(service.resolve(session, reference))
    except MianshenError as error:
        _fail(error)
    if json_output:
        print_json(detail.model_dump(mode="json"))
        return
    _print_version(detail, False)
    print(detail.text, end="" if detail.text.endswith("\n") else "\n")


@app.command()
def publish(
    folder: Path = typer.Argument(POLICY_DIR, help="Folder of policy files (the bundled catalog)."),
    json_output: bool = JSON,
) -> None:
    """Record the bundled catalog as approved by the system identities (idempotent)."""
    try:
        with session_scope() as session:
            published = publish_folder(session, folder)
    except (PolicyError, MianshenError) as error:
        _fail(error)
    if json_output:
        print_json([p.__dict__ for p in published])
        return
    created = sum(p.created for p in published)
    console.print(f"{len(published)} policies published, {created} new versions approved")
