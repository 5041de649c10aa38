"""``mianshen policy ...`` and ``mianshen explain``: validate, test, diff and preview policy files,
and explain one subject's decision. Only argument parsing and printing; the work is in
``eligibility`` (loader, testing, diff, service)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from app.cli.output import console, err_console, print_json
from app.errors import MianshenError
from eligibility.display import yuan
from eligibility.policy import PolicyError, load_file
from eligibility.policy.diff import diff_policies
from eligibility.policy.loader import json_schema, policy_files
from eligibility.policy.testing import run_tests

app = typer.Typer(help="Policies as data: validate, test, diff, preview.", no_args_is_help=True)
DATE = typer.Option(..., "--as-of", formats=["%Y-%m-%d"], help="Evaluation date YYYY-MM-DD.")
JSON = typer.Option(False, "--json", help="Print JSON.")


def _fail(error: PolicyError, json_output: bool) -> None:
    if json_output:
        print_json(
            {
                "valid": False,
                "issues": [
                    {
                        "file": error.source,
                        "line": i.line,
                        "column": i.column,
                        "path": i.path,
                        "message": i.message,
                    }
                    for i in error.issues
                ],
            }
        )
    else:
        for issue in error.issues:
            err_console.print(f"[red]{error.source}:{issue}[/red]", markup=True, highlight=False)
    raise typer.Exit(1)


@app.command()
def validate(
    file: Path = typer.Argument(..., help="Policy YAML file."), json_output: bool = JSON
) -> None:
    """Check a policy file: schema, expressions, types, decision tables (line:column errors)."""
    try:
        policy = load_file(file)
    except PolicyError as error:
        _fail(error, json_output)
        return
    if json_output:
        print_json({"valid": True, "id": policy.id, "version": policy.version})
        return
    console.print(f"[green]OK[/green] {file}: {policy.id} version {policy.version[:16]}…")


@app.command("test")
def test_policies(
    path: Path = typer.Argument(..., help="A policy file or a folder of them."),
    json_output: bool = JSON,
) -> None:
    """Run the test cases of one policy file or every policy in a folder; exit 1 on any failure."""
    results: list[dict[str, object]] = []
    failed = 0
    for file in policy_files(path):
        try:
            policy = load_file(file)
        except PolicyError as error:
            failed += 1
            results.append(
                {
                    "file": str(file),
                    "case": "(validation)",
                    "passed": False,
                    "failures": [str(i) for i in error.issues],
                }
            )
            continue
        if not policy.document.tests:
            failed += 1
            results.append(
                {
                    "file": str(file),
                    "case": "(none)",
                    "passed": False,
                    "failures": ["policy has no test cases"],
                }
            )
        for case in run_tests(policy):
            failed += 0 if case.passed else 1
            results.append(
                {
                    "file": f"{file}:{case.line}",
                    "case": case.name,
                    "passed": case.passed,
                    "failures": case.failures,
                }
            )
    if json_output:
        print_json(
            {"passed": sum(1 for r in results if r["passed"]), "failed": failed, "results": results}
        )
    else:
        table = Table("file", "case", "result", title=f"Policy tests in {path}")
        for r in results:
            outcome = (
                "[green]pass[/green]"
                if r["passed"]
                else "[red]FAIL[/red] " + "; ".join(str(f) for f in r["failures"])  # type: ignore[attr-defined]
            )
            table.add_row(str(r["file"]), str(r["case"]), outcome)
        console.print(table)
        console.print(f"{len(results) - failed} passed, {failed} failed")
    if failed or not results:
        raise typer.Exit(1)


@app.command()
def diff(
    old: Path = typer.Argument(..., help="Old version."),
    new: Path = typer.Argument(..., help="New version."),
    json_output: bool = JSON,
) -> None:
    """What changed between two versions of a policy."""
    try:
        result = diff_policies(load_file(old), load_file(new))
    except PolicyError as error:
        _fail(error, json_output)
        return
    if json_output:
        print_json(result.model_dump())
        return
    console.print(
        f"{result.old_id} {result.old_version[:12]} → {result.new_id} {result.new_version[:12]}"
    )
    table = Table("section", "item", "change", "old", "new")
    for e in result.entries:
        table.add_row(e.section, e.item, e.change, (e.old or "")[:60], (e.new or "")[:60])
    console.print(table if result.entries else "no changes")


@app.command()
def preview(
    file: Path = typer.Argument(..., help="Policy YAML file."),
    as_of: datetime = DATE,
    against: Path | None = typer.Option(
        None, help="Compare with this file instead of the registry's version in force."
    ),
    json_output: bool = JSON,
) -> None:
    """Impact on the population held: eligible, cost per month and year, by region and tier,
    and the change against the version in force on that date (when the registry holds one)."""
    from app.db import get_engine
    from eligibility import repository, service

    engine = get_engine()
    try:
        policy = load_file(file)
        old = (
            load_file(against)
            if against
            else service.version_in_force(engine, policy.id, as_of.date())
        )
    except PolicyError as error:
        _fail(error, json_output)
        return
    data = repository.load_subject_data(engine, policy.view.kind)
    report = service.preview(policy, data, as_of.date(), old)
    if json_output:
        print_json(report.model_dump())
        return
    t = report.totals
    console.print(
        f"[bold]{report.title}[/bold] ({report.policy_id} {report.policy_version[:12]}) "
        f"as of {report.as_of}: {t.eligible:,} of {t.subjects:,} eligible"
    )
    if t.cost_per_month_fen is not None:
        console.print(
            f"cost per month {yuan(t.cost_per_month_fen)}, "
            f"per year {yuan(t.cost_per_year_fen or 0)}"
        )
    if t.one_off_total_fen is not None:
        console.print(f"one-off total {yuan(t.one_off_total_fen)}")
    table = Table("region", "tier", "eligible", "amount per payment")
    for g in report.by_group:
        table.add_row(
            f"{g.region_name} {g.region_code or ''}",
            g.tier or "-",
            f"{g.eligible:,}",
            yuan(g.amount_fen),
        )
    console.print(table)
    if report.change:
        c = report.change
        console.print(
            f"against {c.against_version[:12]}: +{c.newly_eligible:,} newly eligible, "
            f"-{c.no_longer_eligible:,} no longer eligible, eligible {c.eligible_delta:+,}"
        )
        if c.cost_per_month_delta_fen is not None and c.cost_per_year_delta_fen is not None:
            console.print(
                f"change in cost per month {yuan(c.cost_per_month_delta_fen)}, "
                f"per year {yuan(c.cost_per_year_delta_fen)}"
            )
        if c.one_off_total_delta_fen is not None:
            console.print(f"change in one-off total {yuan(c.one_off_total_delta_fen)}")
        changes = Table("region", "tier", "eligible change", "amount per payment change")
        for g in c.by_group:
            changes.add_row(f"{g.region_name} {g.region_code or ''}", g.tier or "-",
                            f"{g.eligible:+,}", yuan(g.amount_fen))
        console.print(changes if c.by_group else "no change by region and tier")


def explain(
    policy: str = typer.Argument(..., help="Policy file or bundled policy id."),
    subject: str = typer.Argument(..., help="Resident ID number or USCC."),
    as_of: datetime = DATE,
    json_output: bool = JSON,
) -> None:
    """Explain one subject's decision in plain Chinese, with inputs and their sources."""
    from app.db import get_engine
    from eligibility import service

    engine = get_engine()
    try:
        compiled = service.find_policy(policy, engine, as_of.date())
        explanations = service.explain_subject(engine, compiled, subject, as_of.date())
    except PolicyError as error:
        _fail(error, json_output)
        return
    except MianshenError as error:
        err_console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    if compiled.view.kind == "person":
        _record_explained([e.subject_key for e in explanations])
    if json_output:
        print_json([e.to_dict() for e in explanations])
        return
    for e in explanations:
        console.rule(f"{e.title} · {e.run.as_of} · {e.subject_key[:8]}…")
        console.print(e.summary)
        table = Table("condition", "value", "reason")
        for c in e.conditions:
            mark = (
                "[green]✓[/green]"
                if c.passed
                else ("[yellow]?[/yellow]" if c.value is None else "[red]✗[/red]")
            )
            table.add_row(c.description, mark, ";".join(c.reasons))
        console.print(table)
        inputs = Table("input", "value", "source", "as of")
        for i in e.inputs:
            inputs.add_row(i.label, i.display, i.source_dept_zh or "", i.as_of or "")
        for d in e.derived:
            inputs.add_row(d.label, d.display, "计算", "")
        console.print(inputs)
        console.print(
            f"policy version {e.run.policy_version[:16]}…, "
            f"input snapshot {e.input_snapshot_hash[:16]}…"
        )


def _record_explained(people: list[str]) -> None:
    """An explanation shows a person's inputs: the view goes into the access log."""
    from app.db import session_scope
    from app.personal_data.service import cli_principal, record_access_many

    with session_scope() as session:
        record_access_many(session, cli_principal(), people, "explain",
                           ["inputs", "conditions", "derived"], channel="cli")


@app.command()
def schema(
    out: Path | None = typer.Option(None, help="Write to this file instead of stdout."),
) -> None:
    """Print (or write) the JSON Schema of the policy format."""
    text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        print(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
