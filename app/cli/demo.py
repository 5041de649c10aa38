"""``mianshen demo``: the README's main job on the embedded default.

Synthesise a small city, migrate the database, import the city, and show what is held and what
was quarantined. Later stages (evaluate, grant, notify) extend this same command.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from app import migrations
from app.cli.output import console, progress_bar
from app.datahub import repository, service, synth
from app.db import get_engine, session_scope
from app.settings import get_settings


def demo(
    persons: int = typer.Option(20_000, help="Persons in the synthetic city."),
    enterprises: int = typer.Option(2_000, help="Enterprises in the synthetic city."),
    seed: int = typer.Option(1, help="Random seed of the synthetic city."),
) -> None:
    """Run the main job: synthetic city → import → summary (evaluate/grant/notify to follow)."""
    settings = get_settings()
    city_dir = Path(settings.home) / "demo-city"
    console.rule("[bold]Mianshen 免申即享 — demo on the embedded default")
    console.print(f"database: {settings.effective_database_url}")
    migrations.upgrade(settings.effective_database_url)
    with progress_bar() as progress:
        synth_report = synth.generate_city(
            city_dir,
            persons=persons,
            enterprises=enterprises,
            seed=seed,
            on_progress=synth.progress_reporter(progress),
        )
        import_report = service.import_path(
            get_engine(), city_dir, on_progress=service.progress_reporter(progress)
        )
    table = Table("dataset", "loaded", "unchanged", "quarantined", title="Import")
    for name, counts in import_report.datasets.items():
        table.add_row(
            name, f"{counts.loaded:,}", f"{counts.unchanged:,}", f"{counts.quarantined:,}"
        )
    console.print(table)
    with session_scope() as session:
        held = repository.summary(session)
    quarantined = sum(c.quarantined for c in import_report.datasets.values())
    console.print(
        f"synthesised {sum(synth_report.rows.values()):,} rows "
        f"({synth_report.dirty_rows:,} deliberately dirty) into {city_dir}"
    )
    console.print(
        f"held: {held.get('person', 0):,} persons, {held.get('enterprise', 0):,} enterprises"
    )
    console.print(f"quarantined this run: {quarantined:,} rows — see `mianshen data quarantine`")
