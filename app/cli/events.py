"""``mianshen events``: ingest life events from departments (JSONL), raise the daily
reminders, list open follow-up tasks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from app.cli.output import console, print_json
from app.db import get_engine, session_scope
from eligibility.events import repository, service
from eligibility.sweeps.backend import EngineUnavailable
from eligibility.sweeps.schedule import today_in_china
from eligibility.sweeps.service import run_sweep

app = typer.Typer(help="Life events: ingest, daily tick, follow-up tasks.", no_args_is_help=True)
AS_OF = typer.Option(None, "--as-of", formats=["%Y-%m-%d"], help="Business date (default: today).")


@app.command("ingest")
def ingest(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A JSONL file of events."),
    as_of: datetime | None = AS_OF,
    reevaluate: bool = typer.Option(True, help="Run a sweep for the subjects concerned after."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Ingest events: deaths suspend grants at once; bundles are correlated; subjects concerned
    are evaluated again. Re-ingesting the same file changes nothing."""
    day = as_of.date() if as_of else today_in_china()
    with path.open(encoding="utf-8") as lines:
        report = service.ingest_lines(get_engine(), lines, day)
    sweep = None
    if reevaluate and report.accepted:
        try:
            sweep = run_sweep(day).model_dump(mode="json")
        except EngineUnavailable as unavailable:
            console.print(f"[yellow]re-evaluation deferred to next sweep: {unavailable}[/yellow]")
    if json_output:
        print_json({**report.model_dump(), "sweep": sweep})
        return
    console.print(
        f"accepted {report.accepted}, duplicates {report.duplicates}, rejected {report.rejected}; "
        f"grants suspended {report.suspended_grants}, bundles completed "
        f"{report.bundles_completed}, subjects queued for re-evaluation {report.reevaluations}"
    )
    for line in report.errors:
        console.print(f"[red]{line}[/red]")


@app.command("tick")
def tick(as_of: datetime | None = AS_OF) -> None:
    """Raise reminders for birth bundles still missing the 户籍 registration after 30 days."""
    raised = service.daily_tick(get_engine(), as_of.date() if as_of else today_in_china())
    console.print(f"{raised} reminder task(s) raised")


@app.command("tasks")
def tasks(json_output: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Open follow-up tasks (e.g. registration missing) for officers and community workers."""
    with session_scope() as session:
        rows = [t.model_dump(mode="json") for t in repository.open_tasks(session)]
    if json_output:
        print_json(rows)
        return
    table = Table("id", "kind", "correlation", "due", "detail", title="Follow-up tasks")
    for t in rows:
        table.add_row(str(t["id"]), t["kind"], t["correlation_key"], t["due_on"], t["detail"])
    console.print(table)
