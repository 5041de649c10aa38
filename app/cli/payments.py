"""``mianshen payments``: the payment batch file of a period for the treasury / bank."""

from __future__ import annotations

from pathlib import Path

import typer

from app.cli.output import console, print_json
from app.db import session_scope
from app.errors import MianshenError
from app.settings import get_settings
from eligibility.payments.batch import create_batch, held_totals
from eligibility.payments.payees import HELD_REASONS_ZH

app = typer.Typer(help="Payments ledger: batch files for the treasury.", no_args_is_help=True)


@app.command("batch")
def batch(
    period: str = typer.Option(..., "--period", help="Batch period, YYYY-MM."),
    out: Path | None = typer.Option(
        None, "--out", help="Directory for the file (default: HOME/payments)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the batch as JSON."),
) -> None:
    """Write (or re-write, identically) the payment file of PERIOD with totals and SHA-256.

    Payments of grants whose policy asks for a bank account that was not confirmed are held
    out (counted with their reason) and join a later batch once the account is confirmed."""
    out_dir = out or Path(get_settings().home) / "payments"
    try:
        with session_scope() as session:
            record, path = create_batch(session, period, out_dir)
    except MianshenError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    held = held_totals(record)
    summary = {
        "batch_id": record.id, "period": record.period, "file": str(path),
        "payments": record.payment_count, "total_fen": record.total_fen, "sha256": record.sha256,
        "held": {reason: {"payments": n, "amount_fen": fen} for reason, (n, fen) in held.items()},
    }
    if json_output:
        print_json(summary)
        return
    console.print(
        f"batch {record.id} for {record.period}: {record.payment_count:,} payments, "
        f"{record.total_fen / 100:,.2f} yuan\nfile {path}\nsha256 {record.sha256}"
    )
    for reason, (count, fen) in sorted(held.items()):
        console.print(f"held out: {count:,} payments, {fen / 100:,.2f} yuan ({reason}: "
                      f"{HELD_REASONS_ZH.get(reason, reason)}); they join a later batch")
