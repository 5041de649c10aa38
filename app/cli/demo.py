"""``mianshen demo``: the README's main job on the embedded default.

Synthesise a small city, migrate, import it (bad rows quarantined), publish the bundled catalog
into the policy registry (approved by the system identities; nothing new when already held),
sweep the policy versions in force as of the city's data date, write that month's payment
batch, send the SMS through the local console provider, and show per policy how many were
matched and granted and what it costs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time
from pathlib import Path

import typer
from rich.table import Table

from app import migrations
from app.cli.output import console, progress_bar
from app.datahub import service, synth
from app.db import get_engine, session_scope
from app.settings import get_settings
from certs.repository import count_certificates
from eligibility.grants.repository import policy_summary
from eligibility.payments.batch import create_batch
from eligibility.registry.catalog import publish_folder
from eligibility.service import POLICY_DIR
from eligibility.sweeps.service import run_sweep
from notifications.service import delivery_stats

# Messages go out at 10:00 China time on the sweep day (02:00 UTC), outside quiet hours.
SEND_AT_UTC = time(2, 0)


def demo(
    persons: int = typer.Option(20_000, help="Persons in the synthetic city."),
    enterprises: int = typer.Option(2_000, help="Enterprises in the synthetic city."),
    seed: int = typer.Option(1, help="Random seed of the synthetic city."),
) -> None:
    """Run the main job: synthetic city → import → sweep → grants, payments → SMS → summary."""
    settings = get_settings()
    city_dir = Path(settings.home) / "demo-city"
    as_of = synth.REFERENCE_DATE
    console.rule("[bold]Mianshen 免申即享 — demo on the embedded default")
    console.print(f"database: {settings.effective_database_url}")
    migrations.upgrade(settings.effective_database_url)
    with progress_bar() as progress:
        synth.generate_city(
            city_dir,
            persons=persons,
            enterprises=enterprises,
            seed=seed,
            as_of=as_of,
            on_progress=synth.progress_reporter(progress),
        )
        imported = service.import_path(
            get_engine(), city_dir, on_progress=service.progress_reporter(progress)
        )
    quarantined = sum(c.quarantined for c in imported.datasets.values())
    loaded = sum(c.loaded for c in imported.datasets.values())
    console.print(
        f"imported {loaded:,} rows, quarantined {quarantined:,} (reasons: "
        "`mianshen data quarantine`)"
    )

    with session_scope() as session:
        published = publish_folder(session, POLICY_DIR)
    console.print(
        f"policy registry: {len(published)} bundled policies, "
        f"{sum(p.created for p in published)} new versions approved (`mianshen policy list`)"
    )
    console.print(f"sweeping the policy versions in force as of {as_of} …")
    sweep = run_sweep(as_of, full=True)
    period = as_of.strftime("%Y-%m")
    with session_scope() as session:
        batch, batch_file = create_batch(session, period, Path(settings.home) / "payments")
    sent = _send_sms(datetime.combine(as_of, SEND_AT_UTC, tzinfo=UTC))
    _print_summary(period)
    with session_scope() as session:
        stats = delivery_stats(session)
        certificates = count_certificates(session)
    console.print(
        f"sweep {sweep.sweep_id}: {sweep.counts.get('grants_created', 0):,} grants created; "
        f"payment batch for {period}: {batch.payment_count:,} payments → {batch_file}"
    )
    console.print(
        f"SMS: {sent:,} handed to the console provider ({stats.total:,} in the outbox) → "
        f"{Path(settings.home) / 'sms-outbox.log'}"
    )
    console.print(f"e-certificates issued and signed: {certificates:,} (`mianshen certs list`)")
    console.print(
        "next: `python3 dev.py run grants list`, `... explain longevity-allowance ID_NUMBER "
        f"--as-of {as_of}`, `... notifications list`, `... audit verify`"
    )
    console.print(
        "pages: `python3 dev.py run serve` → http://127.0.0.1:8000/ (个人服务 "
        "http://127.0.0.1:8000/citizen, 企业服务 http://127.0.0.1:8000/enterprise, "
        "officers http://127.0.0.1:8000/officer, auditors http://127.0.0.1:8000/auditor; "
        "API docs http://127.0.0.1:8000/docs); staff accounts: `python3 dev.py run users add "
        "NAME --role officer`; citizens sign in with an SMS code written to the SMS log above"
    )


def _send_sms(moment: datetime) -> int:
    from notifications.tasks import dispatcher

    engine = dispatcher()
    engine.clock = lambda: moment
    return engine.dispatch_due().sent


def _print_summary(period: str) -> None:
    with session_scope() as session:
        rows = policy_summary(session)
    by_policy: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for policy_id, state, count, total in rows:
        by_policy[policy_id][state] = (count, total)
    table = Table(
        "policy",
        "matched (open)",
        "granted",
        "granted amount / period (yuan)",
        title=f"Benefits in force, {period}",
    )
    for policy_id, states in sorted(by_policy.items()):
        granted, amount = states.get("granted", (0, 0))
        table.add_row(
            policy_id,
            f"{sum(n for n, _ in states.values()):,}",
            f"{granted:,}",
            f"{amount / 100:,.2f}",
        )
    console.print(table)
