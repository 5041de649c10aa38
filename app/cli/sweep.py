"""``mianshen sweep``: evaluate every policy in force and turn changed outcomes into decisions,
grants and ledger rows (incremental by default, ``--full`` for everyone)."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from app.cli.output import console, err_console, print_json
from eligibility.sweeps.backend import EngineUnavailable
from eligibility.sweeps.schedule import today_in_china
from eligibility.sweeps.service import run_sweep


def sweep(
    full: bool = typer.Option(False, "--full", help="Evaluate every subject, not only changes."),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Business date (default: today, China time)."
    ),
    shards: int | None = typer.Option(None, help="Shards per subject kind (default: settings)."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Run a sweep. Safe to re-run: unchanged outcomes write nothing."""
    day = as_of.date() if as_of else today_in_china()
    try:
        report = run_sweep(day, full=full, shards=shards)
    except EngineUnavailable as error:
        err_console.print(f"[red]cannot sweep:[/red] {error}")
        raise typer.Exit(2) from error
    if json_output:
        print_json(report.model_dump(mode="json"))
        return
    table = Table("what", "count", title=f"Sweep {report.sweep_id} ({report.mode}) as of {day}")
    for name, value in sorted(report.counts.items()):
        table.add_row(name, f"{value:,}")
    console.print(table)
    console.print(f"status {report.status}; {report.shards} shards, {report.attempts} attempts")
