"""``mianshen audit``: verify the tamper-evident log, print inclusion and consistency proofs,
publish a signed tree head, replay a decision. Parsing, the unit of work and printing only; the
work is in ``app.audit`` and, for replay, ``eligibility.replay``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import typer
from rich.table import Table
from rich.text import Text

from app.audit import service, verification
from app.audit.schemas import TreeHeadView
from app.cli.output import console, err_console, print_json
from app.db import session_scope
from app.errors import MianshenError

app = typer.Typer(
    help="Tamper-evident audit log: verify it, prove an entry, publish a signed tree head.",
    no_args_is_help=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON (for scripts and verifiers).")


def _fail(error: MianshenError) -> NoReturn:
    err_console.print(Text.assemble(("error: ", "red"), str(error)), soft_wrap=True)
    raise typer.Exit(1)


def _describe(tree_head: TreeHeadView) -> str:
    at = datetime.fromtimestamp(tree_head.timestamp_ms / 1000, UTC).isoformat(timespec="seconds")
    return (f"tree head #{tree_head.id}: size {tree_head.tree_size:,}, "
            f"{tree_head.hash_algorithm} root {tree_head.root_hash}, signed {at} "
            f"by key {tree_head.key_id}")


@app.command()
def verify(
    json_output: bool = JSON_OPTION,
    public_key: list[str] = typer.Option(
        [], "--public-key", help="Also trust this Ed25519 public key (hex); repeatable. Needed "
        "when the data key that decrypts the log key is not available here.",
    ),
    tree_head: list[Path] = typer.Option(
        [], "--tree-head", help="A tree head kept outside the database (the JSON of `audit sth "
        "--json`); repeatable. The log must still contain and extend it (catches truncation).",
    ),
) -> None:
    """Recompute the whole log and check it against every signed tree head.

    Exits 1 on failure and names the first bad entry.
    """
    try:
        known = [json.loads(path.read_text(encoding="utf-8")) for path in tree_head]
    except (OSError, ValueError) as error:
        err_console.print(Text.assemble(("error: ", "red"), f"cannot read a tree head: {error}"))
        raise typer.Exit(2) from None
    with session_scope() as session:
        report = verification.verify_log(session, pinned_public_keys=public_key,
                                         known_tree_heads=known)
    if json_output:
        print_json(report.model_dump(mode="json"))
    else:
        status = "[green]OK[/green]" if report.ok else "[red]FAILED[/red]"
        console.print(f"audit log {status}: {report.entries_checked:,} entries "
                      f"({report.hash_algorithm or 'empty log'}), "
                      f"{report.tree_heads_checked} signed tree heads checked, "
                      f"seals {'checked' if report.seals_checked else 'NOT checked (no log key)'}")
        if report.latest_tree_head:
            console.print("latest " + _describe(report.latest_tree_head))
        if report.entries_after_latest_tree_head:
            console.print(f"{report.entries_after_latest_tree_head:,} entries appended since "
                          "(not yet signed)")
        if report.first_bad_entry is not None:
            console.print(f"[red]first bad entry: {report.first_bad_entry}[/red]")
        if report.findings:
            table = Table("entry", "problem", title=f"{report.findings_total} finding(s)")
            for finding in report.findings:
                table.add_row("" if finding.seq is None else str(finding.seq),
                              Text(finding.problem))
            console.print(table)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def prove(
    entry: str = typer.Argument(..., help="Sequence number, or kind:record_id "
                                "(e.g. decision:D-2025-000042)."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Print an inclusion proof of ENTRY in the latest signed tree head.

    The --json output is what docs/audit-verifier.py checks.
    """
    try:
        with session_scope() as session:
            proof = service.inclusion_proof(session, entry)
    except MianshenError as error:
        _fail(error)
    if json_output:
        print_json(proof.model_dump(mode="json"))
        return
    console.print(f"entry {proof.leaf_index} ({proof.entry['kind']} {proof.entry['record_ref']}, "
                  f"appended {proof.entry['appended_at']})")
    console.print(f"leaf hash {proof.leaf_hash}")
    console.print(f"inclusion path in a tree of {proof.tree_size:,} entries:")
    for node in proof.inclusion_path:
        console.print(f"  {node}")
    console.print(_describe(proof.tree_head))
    console.print(f"signature {proof.tree_head.signature}")
    console.print(f"public key {proof.public_key}")


@app.command()
def sth(json_output: bool = JSON_OPTION) -> None:
    """Publish a signed tree head of the log now."""
    try:
        with session_scope() as session:
            tree_head = service.publish_tree_head(session)
    except MianshenError as error:
        _fail(error)
    if json_output:
        print_json(tree_head.model_dump(mode="json"))
    else:
        console.print("published " + _describe(tree_head))


@app.command()
def consistency(
    old_size: int = typer.Argument(..., help="Size of the earlier signed tree head."),
    new_size: int = typer.Argument(..., help="Size of the later signed tree head."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Print the RFC 9162 consistency proof between two signed tree heads.

    Exits 1 if the proof does not verify.
    """
    try:
        with session_scope() as session:
            proof = service.consistency_proof(session, old_size, new_size)
    except MianshenError as error:
        _fail(error)
    if json_output:
        print_json(proof.model_dump(mode="json"))
    else:
        console.print(f"consistency {old_size:,} → {new_size:,}: "
                      f"{'verified' if proof.verified else '[red]DOES NOT VERIFY[/red]'}")
        for node in proof.consistency_path:
            console.print(f"  {node}")
    raise typer.Exit(0 if proof.verified else 1)


@app.command()
def replay(
    decision: int = typer.Argument(..., help="Decision id (see `mianshen grants show`)."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Re-evaluate a stored decision with its recorded policy version, parameters and inputs.

    Prints identical or different (with what differs); exits 1 when different.
    """
    from eligibility.replay.service import replay as replay_decision

    try:
        with session_scope() as session:
            report = replay_decision(session, decision)
    except MianshenError as error:
        _fail(error)
    if json_output:
        print_json(report.model_dump(mode="json"))
    else:
        colour = "green" if report.identical else "red"
        console.print(f"decision {report.decision_id} ({report.policy_id} "
                      f"{report.policy_version[:16]}…, as of {report.as_of}): "
                      f"[{colour}]{report.outcome}[/{colour}]")
        if report.differences:
            table = Table("field", "recorded", "replayed")
            for difference in report.differences:
                table.add_row(difference.field, Text(json.dumps(difference.recorded, default=str)),
                              Text(json.dumps(difference.replayed, default=str)))
            console.print(table)
    raise typer.Exit(0 if report.identical else 1)
