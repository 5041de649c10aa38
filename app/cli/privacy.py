"""``mianshen privacy`` (a citizen's export, refusal of automated decisions on a paper request),
``mianshen keys`` (data-key status, generation and rotation) and ``mianshen audit access`` (who
viewed whose record). Parsing, the unit of work and printing only; the work is in
``app.personal_data``. Commands that show a person's data record the view in the access log."""

from __future__ import annotations

import base64
import os
import secrets
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from app.cli.output import console, err_console, print_json
from app.db import get_engine, session_scope
from app.errors import MianshenError
from app.personal_data import export, rotation, service
from app.privacy import keyring, mask_id_number

app = typer.Typer(help="Data-subject rights: export, refusal of automated decisions.",
                  no_args_is_help=True)
keys_app = typer.Typer(help="Data keys: status, a new key, re-encryption under the current key.",
                       no_args_is_help=True)


def _subject(subject: str) -> str:
    try:
        return service.subject_key_of(subject)
    except MianshenError as error:
        err_console.print(f"error: {error}")
        raise typer.Exit(2) from None


@app.command("export")
def export_command(
    id_number: str = typer.Argument(..., help="Resident ID number of the person."),
    out: Path = typer.Option(..., "--out", help="File to write: .json, or .zip with a readme."),
) -> None:
    """Everything held about one person, decrypted, for a PIPL access request."""
    key = _subject(id_number)
    with session_scope() as session:
        service.record_access(session, service.cli_principal(), key, "citizen_export", ["*"],
                              channel="cli")
        document = export.export_subject(session, key)
    if out.suffix.lower() == ".zip":
        out.write_bytes(export.export_zip(document))
    else:
        out.write_text(export.export_json(document), encoding="utf-8")
    os.chmod(out, 0o600)
    sections = sum(1 for value in document.values() if isinstance(value, list) and value)
    console.print(f"wrote {out} ({len(document['registry'])} registry datasets, "
                  f"{sections} other sections with records) for "
                  f"{mask_id_number(id_number.strip().upper())}")


@app.command("refuse-automation")
def refuse_automation_command(
    id_number: str = typer.Argument(..., help="Resident ID number on the paper request."),
    officer: str = typer.Option(..., "--officer", help="Officer recording the request."),
) -> None:
    """Record a citizen's refusal of purely automated decisions (PIPL art. 24): their next
    decisions go to the manual review queue. Idempotent."""
    key = _subject(id_number)
    with session_scope() as session:
        receipt = service.refuse_automated_decisions(session, key)
    console.print(f"refusal recorded for {mask_id_number(id_number.strip().upper())} "
                  f"(since {receipt.refused_at:%Y-%m-%d %H:%M} UTC) by {officer}; "
                  "new decisions go to `mianshen grants review`")


def access(
    subject: str | None = typer.Option(None, "--subject", help="ID number or subject key."),
    viewer: str | None = typer.Option(None, "--viewer", help="Everything this viewer saw."),
    since: datetime | None = typer.Option(None, "--since", help="Only views from this time."),
    limit: int = typer.Option(500, help="At most this many, newest first."),
    json_output: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Who viewed whose personal data: by subject, or by viewer."""
    if not subject and not viewer:
        err_console.print("error: give --subject or --viewer")
        raise typer.Exit(2)
    with session_scope() as session:
        if subject:
            rows = service.access_log(session, _subject(subject), since=since, limit=limit)
        else:
            rows = service.access_by_viewer(session, viewer or "", limit=limit)
    if json_output:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    table = Table("at (UTC)", "viewer", "roles", "purpose", "fields", "via", "subject key",
                  title="Personal data access")
    for row in rows:
        table.add_row(f"{row.at:%Y-%m-%d %H:%M:%S}", f"{row.viewer_kind}:{row.viewer_id}",
                      ",".join(row.viewer_roles), row.purpose, ",".join(row.fields),
                      row.channel, row.subject_key)
    console.print(table)


@keys_app.command("status")
def status(json_output: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Encrypted values per key id and column (after a rotation: none under an old key)."""
    counts = rotation.key_status(get_engine())
    active = keyring().active_kid
    if json_output:
        print_json({"active_kid": active, "columns": {k: dict(v) for k, v in counts.items()}})
        return
    table = Table("column", "key id", "values", title=f"Data keys (current: {active})")
    for label, per_kid in counts.items():
        for kid, count in sorted(per_kid.items()):
            table.add_row(label, kid + ("" if kid == active else "  (old)"), f"{count:,}")
    console.print(table)


@keys_app.command("generate")
def generate(kid: str = typer.Argument(..., help="Key id for the new key (no dots).")) -> None:
    """Print a new AES-256 key entry for MIANSHEN_DATA_KEYS (put it first to make it current)."""
    if not kid or "." in kid or ":" in kid or ";" in kid:
        err_console.print("error: a key id must be non-empty without '.', ':' or ';'")
        raise typer.Exit(2)
    print(f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}")


@keys_app.command("rotate-pii")
def rotate_pii(
    batch_size: int = typer.Option(1000, min=1, help="Rows per transaction."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Re-encrypt every encrypted value under the current data key, in committed batches,
    while the application keeps running; safe to stop and re-run."""
    report = rotation.rotate(
        get_engine(), batch_size=batch_size,
        progress=None if json_output else
        (lambda label, count: err_console.print(f"{label}: {count:,} re-encrypted")))
    result = {"active_kid": report.active_kid, "rewritten": dict(report.rewritten),
              "skipped_changed": report.skipped_changed,
              "unknown_key": dict(report.unknown_key)}
    if json_output:
        print_json(result)
        return
    console.print(f"rotation to {report.active_kid}: {sum(report.rewritten.values()):,} values "
                  f"re-encrypted, {report.skipped_changed} changed meanwhile (already current), "
                  f"{sum(report.unknown_key.values())} under no configured key (left as is)")
