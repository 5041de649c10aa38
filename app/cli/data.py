"""``mianshen data``: the shared data platform -- synthesise a city, import files, inspect."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from app.cli.output import console, err_console, print_json, progress_bar
from app.datahub import catalog_doc, repository, service, synth
from app.db import get_engine, session_scope

app = typer.Typer(
    help="Shared data: synthesise, import, quarantine, summary, catalog.", no_args_is_help=True
)


@app.command("synth")
def synth_city(
    out: Path = typer.Option(Path("var/city"), "--out", help="Directory to write datasets into."),
    persons: int = typer.Option(
        10_000, min=0,
        help="Number of persons in the population registry (at least the milestone cohort, "
        "about 4,400, is always written; 0 writes only that cohort).",
    ),
    enterprises: int = typer.Option(
        1_000, min=0, help="Number of enterprises and individual businesses (0: none)."
    ),
    seed: int = typer.Option(1, help="Random seed: the same seed writes the same city."),
    as_of: datetime = typer.Option(
        synth.REFERENCE_DATE.isoformat(),
        formats=["%Y-%m-%d"],
        help="Extraction date of the data: no record is dated after it.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Write a deterministic synthetic city: one CSV per dataset, a few percent of dirty rows."""
    with progress_bar(enabled=not json_output) as progress:
        report = synth.generate_city(
            out,
            persons=persons,
            enterprises=enterprises,
            seed=seed,
            as_of=as_of.date(),
            on_progress=synth.progress_reporter(progress),
        )
    if json_output:
        print_json(report.model_dump())
        return
    table = Table("dataset", "rows", title=f"Synthetic city in {report.out_dir}")
    for name, rows in report.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"{report.dirty_rows:,} deliberately dirty rows; {report.seconds:.1f} s")


@app.command("import")
def import_data(
    path: Path = typer.Argument(..., help="A CSV/JSONL file named after its dataset, or a folder."),
    json_output: bool = typer.Option(False, "--json", help="Print per-dataset counts as JSON."),
) -> None:
    """Validate and load datasets; bad rows go to the quarantine with their reason.

    Files that cannot be read are reported on stderr and the exit code is 1; the other
    datasets load regardless."""
    with progress_bar(enabled=not json_output) as progress:
        report = service.import_path(
            get_engine(), path, on_progress=service.progress_reporter(progress)
        )
    if json_output:
        print_json({name: counts.model_dump() for name, counts in report.datasets.items()})
    else:
        table = Table("dataset", "loaded", "unchanged", "quarantined", title=f"Import of {path}")
        for name, counts in report.datasets.items():
            table.add_row(
                name, f"{counts.loaded:,}", f"{counts.unchanged:,}", f"{counts.quarantined:,}"
            )
        console.print(table)
        console.print(f"{report.rows:,} rows in {report.seconds:.1f} s")
    for message in report.errors.values():
        err_console.print(f"[red]error:[/red] {message}", highlight=False)
    if report.errors:
        raise typer.Exit(1)


@app.command()
def quarantine(
    dataset: str | None = typer.Option(None, help="Only this dataset."),
    limit: int = typer.Option(100, help="At most this many rows."),
    json_output: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List quarantined rows with file, row number and reason."""
    with session_scope() as session:
        entries = repository.list_quarantine(session, dataset=dataset, limit=limit)
    if json_output:
        print_json([entry.model_dump() for entry in entries])
        return
    table = Table("dataset", "file", "row", "reason", title="Quarantine (隔离区)")
    for entry in entries:
        table.add_row(entry.dataset, entry.file_name, str(entry.row_number), entry.reason)
    console.print(table)


@app.command()
def summary(json_output: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Count what is held per dataset, and what is quarantined."""
    with session_scope() as session:
        counts = repository.summary(session)
    if json_output:
        print_json(counts)
        return
    table = Table("dataset", "rows", title="Shared data held")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)


@app.command("catalog")
def write_catalog(
    out: Path = typer.Option(Path(catalog_doc.DOC_PATH), "--out", help="Markdown file to write."),
    check: bool = typer.Option(False, "--check", help="Only check the file is up to date."),
) -> None:
    """Write the data catalog document (docs/data-catalog.md) from the catalog."""
    rendered = catalog_doc.render_catalog()
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != rendered:
            err_console.print(f"{out} is out of date: run `mianshen data catalog`")
            raise typer.Exit(1)
        console.print(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered, encoding="utf-8")
    console.print(f"wrote {out}")
