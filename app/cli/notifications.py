"""``mianshen notifications``: the SMS outbox -- send what is due, list messages, delivery
statistics, template preview; and ``mianshen sms gateway``: the standalone mock gateway.
Commands parse, open the unit of work and print; the work is in ``notifications``."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from app.cli.output import console, print_json
from app.db import session_scope
from notifications import service
from notifications.templates import TemplateError, preview

app = typer.Typer(help="SMS notifications: send, list, stats, preview.", no_args_is_help=True)
sms_app = typer.Typer(help="SMS tooling: the mock gateway.", no_args_is_help=True)


@app.command()
def send(
    at: datetime | None = typer.Option(
        None,
        "--now",
        formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        help="Pretend it is this UTC time (quiet hours, rate windows), e.g. the demo's day.",
    ),
    reconcile: bool = typer.Option(True, help="Also resolve hand-offs left by dead workers."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Dispatch every due message now (in-process; what the embedded demo calls)."""
    from notifications.tasks import dispatcher

    engine = dispatcher()
    if at is not None:
        moment = at.replace(tzinfo=UTC)
        engine.clock = lambda: moment
    report = engine.dispatch_due()
    reconciled = engine.reconcile_stale() if reconcile else None
    if json_output:
        print_json(
            {
                "dispatch": report.model_dump(),
                "reconcile": reconciled.model_dump() if reconciled else None,
            }
        )
        return
    console.print(
        f"claimed {report.claimed}, sent {report.sent}, retrying {report.retrying}, "
        f"deferred {report.deferred}, fallback {report.fallback}, cancelled {report.cancelled}, "
        f"failed {report.permanent_failure + report.technical_failure}, unknown {report.unknown}"
    )


@app.command("list")
def list_messages(
    status: str | None = typer.Option(None, "--status", help="Only this status, e.g. sent."),
    batch: str | None = typer.Option(None, "--batch", help="Only this batch reference."),
    limit: int = typer.Option(50, help="At most this many, newest first."),
    json_output: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List messages (masked bodies, statuses, times); no mobile number is ever shown."""
    with session_scope() as session:
        rows = service.list_notifications(session, status=status, batch_ref=batch, limit=limit)
    if json_output:
        print_json([row.model_dump() for row in rows])
        return
    table = Table("id", "status", "tries", "event", "batch", "body", title="SMS outbox")
    for row in rows:
        table.add_row(
            str(row.id),
            row.status,
            str(row.attempts),
            row.event_kind,
            row.batch_ref or "",
            row.body,
        )
    console.print(table)


@app.command()
def stats(json_output: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Delivery statistics per batch, for officers."""
    with session_scope() as session:
        batches = service.batch_stats(session)
    if json_output:
        print_json([batch.model_dump() for batch in batches])
        return
    table = Table(
        "batch", "messages", "segments", "delivered share", "by status", title="SMS delivery"
    )
    for batch in batches:
        by_status = ", ".join(f"{k} {v}" for k, v in batch.by_status.items())
        table.add_row(
            batch.batch_ref or "(none)",
            str(batch.total),
            str(batch.segments),
            f"{batch.delivered_share:.1%}",
            by_status,
        )
    console.print(table)


@app.command("preview")
def preview_template(
    code: str = typer.Argument(..., help="Template code, e.g. longevity_allowance.payment_made."),
    var: list[str] = typer.Option([], "--var", help="name=value (others get sample values)."),
) -> None:
    """Render a template with sample values: body, length and segment count."""
    values: dict[str, str | int] = {}
    for item in var:
        name, _, value = item.partition("=")
        values[name] = int(value) if value.isdigit() else value
    try:
        sms = preview(code, values)
    except TemplateError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(sms.body)
    console.print(f"{sms.length} characters, {sms.segments} segment(s)")


@sms_app.command()
def gateway(
    port: int = typer.Option(9090, help="Port on 127.0.0.1."),
    fail_rate: float = typer.Option(0.0, help="Share of requests answered with an error."),
    delay_ms: int = typer.Option(0, help="Delay added to every send request."),
    callback_url: str | None = typer.Option(None, help="Where to push delivery reports."),
    callback_token: str = typer.Option("", help="Token appended to the callback URL."),
    delivered_share: float = typer.Option(1.0, help="Share of reports that say delivered."),
    dedupe: bool = typer.Option(False, help="Answer a repeated out_id instead of sending again."),
    seed: int = typer.Option(1, help="Random seed of the failure injection."),
) -> None:
    """Run the mock SMS gateway (Aliyun-style, Tencent-style and generic formats)."""
    from notifications.mock_gateway import GatewayConfig, serve_forever

    config = GatewayConfig(
        fail_rate=fail_rate,
        delay_ms=delay_ms,
        callback_url=callback_url,
        callback_token=callback_token,
        delivered_share=delivered_share,
        dedupe=dedupe,
        seed=seed,
    )
    console.print(f"mock SMS gateway on http://127.0.0.1:{port} (fail rate {fail_rate:.0%})")
    serve_forever(port, config)
