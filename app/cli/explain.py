"""``mianshen explain``: a recorded decision by its id (``explain DECISION_ID``: the recorded
explanation and provenance), or a subject evaluated against a policy as of a date (``explain
POLICY SUBJECT --as-of DATE``, printed by ``app.cli.policy``). Only parsing and printing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from app.cli import policy
from app.cli.output import console, err_console, print_json
from app.errors import MianshenError
from eligibility.display import yuan

USAGE = "give DECISION_ID, or POLICY SUBJECT --as-of YYYY-MM-DD"


def explain(
    target: str = typer.Argument(..., help="A decision id, or a policy file / bundled policy id."),
    subject: str | None = typer.Argument(None, help="With a policy: resident ID number or USCC."),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="With a policy: evaluation date YYYY-MM-DD."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Explain a recorded decision (with its provenance), or one subject's decision now."""
    if subject is not None:
        if as_of is None:
            err_console.print(f"[red]--as-of is required with POLICY SUBJECT ({USAGE})[/red]")
            raise typer.Exit(2)
        policy.explain(target, subject, as_of, json_output)
        return
    if not target.isdigit():
        err_console.print(f"[red]{target!r} is not a decision id ({USAGE})[/red]")
        raise typer.Exit(2)
    from app.db import get_engine, session_scope
    from eligibility.grants.explain import explain_decision

    try:
        with session_scope(get_engine()) as session:
            found = explain_decision(session, int(target))
    except MianshenError as error:
        err_console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    if json_output:
        print_json(found)
        return
    _print(found)


def _print(found: dict[str, Any]) -> None:
    p, outcome = found["policy"], found["outcome"]
    console.rule(f"decision {found['decision_id']} · {p['title']} · {found['as_of']}")
    console.print(found["summary"])
    amount = yuan(outcome["amount_fen"]) if outcome["amount_fen"] is not None else "-"
    console.print(f"subject {found['subject']['kind']} {found['subject']['key'][:8]}…; "
                  f"eligible {outcome['eligible']}, tier {outcome['tier'] or '-'}, {amount}; "
                  f"flags {', '.join(found['flags']) or 'none'}; "
                  f"{'current' if found['is_current'] else 'superseded'}")
    conditions = Table("condition", "value", "passed")
    for c in found["conditions"]:
        conditions.add_row(c["description"], str(c["value"]),
                           "[green]✓[/green]" if c["passed"] else "[red]✗[/red]")
    console.print(conditions)
    if found["details"]:
        console.print("details " + ", ".join(f"{k}={v}" for k, v in found["details"].items()))
    inputs = Table("dataset", "source", "as of", "fields")
    for record in found["inputs"]:
        fields = ", ".join(f"{k}={v}" for k, v in record["fields"].items())
        inputs.add_row(record["dataset"], record["source_dept_zh"], str(record["as_of"] or ""),
                       fields)
    console.print(inputs)
    console.print(f"parameters {found['parameters']}")
    current = {True: "current", False: "not the current file", None: "file not held"}
    console.print(
        f"policy {p['id']} version {p['version'][:16]}… ({current[p['is_current_version']]}); "
        f"engine {found['engine_version']}; sweep {found['sweep_id']}; "
        f"recorded {found['recorded_at']}"
    )
    intact = "intact" if found["inputs_intact"] else "[red]DOES NOT MATCH its hash[/red]"
    console.print(f"input snapshot {found['inputs_hash'][:16]}… {intact}; audit entry "
                  f"{found['audit_entry'] if found['audit_entry'] is not None else 'none'}")
