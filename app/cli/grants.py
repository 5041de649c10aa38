"""``mianshen grants``: list and show grants (with history, ledger and decision provenance),
the manual review queue and officers' decisions on it."""

from __future__ import annotations

from datetime import date, datetime

import typer
from rich.table import Table

from app.cli.output import console, print_json
from app.db import session_scope
from app.errors import MianshenError
from app.personal_data.service import cli_principal, record_access
from app.privacy import subject_key_of
from eligibility.grants.context import SweepContext
from eligibility.grants.queries import grant_detail, grants_page
from eligibility.grants.review import decide_review, open_reviews
from eligibility.grants.schemas import GrantDetail, GrantSummary

app = typer.Typer(help="Grants: list, show, review queue.", no_args_is_help=True)


@app.command("list")
def list_grants(
    policy: str | None = typer.Option(None, "--policy", help="Only this policy id."),
    subject: str | None = typer.Option(None, "--subject", help="ID number, USCC or subject key."),
    state: str | None = typer.Option(None, "--state", help="Only grants in this state."),
    limit: int = typer.Option(100, help="At most this many."),
    json_output: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List grants, oldest first."""
    key = subject_key_of(subject) if subject else None
    with session_scope() as session:
        rows = [GrantSummary.of(g) for g in grants_page(
            session, after_id=0, limit=limit, policy_id=policy, subject_key=key, state=state)]
        if key and rows:
            record_access(session, cli_principal(), key, "grants_list",
                          sorted(GrantSummary.model_fields), channel="cli")
    if json_output:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    table = Table("id", "policy", "subject", "state", "tier", "yuan", "from", "end", title="Grants")
    for g in rows:
        amount = f"{g.amount_fen / 100:,.2f}" if g.amount_fen is not None else ""
        table.add_row(str(g.id), g.policy_id, g.subject_key[:12] + "…", g.state, g.tier or "",
                      amount, g.start_period or str(g.start_date), str(g.end_date or ""))
    console.print(table)


@app.command("show")
def show(
    grant_id: int = typer.Argument(..., help="Grant id."),
    json_output: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """A grant with its state history, amount schedule, ledger, recoveries and decision."""
    with session_scope() as session:
        detail = grant_detail(session, grant_id)
        if detail is not None and detail.subject_kind == "person":
            record_access(session, cli_principal(), detail.subject_key, "grants_show",
                          sorted(GrantDetail.model_fields), channel="cli")
    if detail is None:
        console.print(f"[red]grant {grant_id} not found[/red]")
        raise typer.Exit(1)
    if json_output:
        print_json(detail.model_dump(mode="json"))
        return
    console.print(f"[bold]grant {detail.id}[/bold] {detail.policy_id} → {detail.subject_key} "
                  f"(episode {detail.episode}): [bold]{detail.state}[/bold]")
    history = Table("at", "from", "to", "reason", "effective", "actor", title="History")
    for e in detail.events:
        history.add_row(str(e["at"])[:19], e["from_state"] or "", e["to_state"], e["reason"],
                        str(e["effective_date"]), e["actor"])
    console.print(history)
    ledger = Table("period", "kind", "yuan", "status", "back-pay", title="Ledger")
    for p in detail.payments:
        ledger.add_row(p["period"], p["kind"], f"{p['amount_fen'] / 100:,.2f}", p["status"],
                       "yes" if p["back_pay"] else "")
    console.print(ledger)
    for r in detail.recoveries:
        console.print(f"recovery {r['id']}: {r['period']} {r['amount_fen'] / 100:,.2f} yuan "
                      f"({r['reason']}, {r['status']})")
    if detail.decision:
        d = detail.decision
        console.print(f"decision {d.id}: policy version {d.policy_version[:16]}…, inputs "
                      f"{d.inputs_hash[:16]}…, engine {d.engine_version}, as of {d.as_of}")
        console.print(f"conditions: {d.explanation}")


@app.command("review")
def review_queue(json_output: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The manual review queue: flagged cases and internal-review steps waiting for an officer."""
    with session_scope() as session:
        items = [i.model_dump(mode="json") for i in open_reviews(session)]
    if json_output:
        print_json(items)
        return
    table = Table("id", "grant", "kind", "reasons", "since", title="Review queue (人工复核)")
    for i in items:
        table.add_row(
            str(i["id"]), str(i["grant_id"]), i["kind"], i["reasons"], i["created_at"][:19]
        )
    console.print(table)


@app.command("decide")
def decide(
    review_id: int = typer.Argument(..., help="Review item id."),
    approve: bool = typer.Option(..., "--approve/--reject", help="The officer's decision."),
    officer: str = typer.Option(..., "--officer", help="Officer id, recorded with the decision."),
    note: str = typer.Option("", "--note", help="Reason, recorded with the decision."),
    as_of: datetime | None = typer.Option(None, "--as-of", formats=["%Y-%m-%d"]),
) -> None:
    """Record an officer's decision on a review item."""
    try:
        with session_scope() as session:
            ctx = SweepContext(session=session, backend_or_none=None,
                               as_of=as_of.date() if as_of else date.today(),
                               actor=f"officer:{officer}")
            grant = decide_review(ctx, review_id, approve, note)
            state = grant.state
    except MianshenError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    console.print(f"review {review_id} {'approved' if approve else 'rejected'}; grant now {state}")
