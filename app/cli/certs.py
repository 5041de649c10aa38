"""``mianshen certs``: department keys, published issuer keys, issue, list, show, verify, revoke,
suspend, reinstate and QR output. Parsing, the unit of work and printing only; the work is in
``certs.service``. Private keys, holder names and subject keys are never printed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import NoReturn

import typer
from rich.table import Table
from rich.text import Text

from app.cli.output import console, err_console, print_json
from app.db import session_scope
from app.errors import MianshenError
from app.personal_data.service import cli_principal, record_access
from app.privacy import keyring
from certs import api, imports, rendering, repository, service
from certs.models import CertStatus, CertType
from certs.signing import Algorithm

app = typer.Typer(help="E-certificates: signing keys, issue, verify, revoke.",
                  no_args_is_help=True)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON (for scripts and verifiers).")


def _fail(error: MianshenError) -> NoReturn:
    err_console.print(Text.assemble(("error: ", "red"), str(error)), soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def keygen(
    department: str = typer.Argument(..., help="Department key, e.g. civil_affairs."),
    algorithm: Algorithm = typer.Option(Algorithm.ED25519, help="Signature algorithm."),
    code: str | None = typer.Option(None, help="Issuer USCC for a department not built in."),
    name: str | None = typer.Option(None, help="Issuer name for a department not built in."),
) -> None:
    """Create a new active signing key for DEPARTMENT (the previous key retires, still verifies)."""
    try:
        with session_scope() as session:
            key = service.generate_department_key(session, department, algorithm, code, name)
    except MianshenError as error:
        _fail(error)
    console.print(f"key {key.key_id} ({key.algorithm}) is now active for {department}")


@app.command()
def issuers(json_output: bool = JSON_OPTION) -> None:
    """Published issuer public keys (what an offline verifier needs)."""
    with session_scope() as session:
        published = service.published_issuers(session)
    if json_output:
        print_json([i.model_dump(mode="json") for i in published])
        return
    table = Table("issuer", "name", "key id", "algorithm", "active")
    for issuer in published:
        for key in issuer.keys:
            table.add_row(issuer.code, issuer.name, key.key_id, key.algorithm, str(key.active))
    console.print(table)


@app.command()
def issue(
    cert_type: CertType = typer.Argument(...),
    holder_name: str = typer.Argument(...),
    id_number: str = typer.Argument(..., help="Used only to derive the pseudonymous subject key."),
    issuer: str = typer.Option(..., help="Department key or issuer USCC."),
    valid_from: str = typer.Option(..., help="YYYY-MM-DD"),
    valid_to: str | None = typer.Option(None, help="YYYY-MM-DD (omit for long-term)"),
    grant_ref: str | None = typer.Option(None),
) -> None:
    """Issue a certificate by hand (the grant pipeline calls the service directly)."""
    try:
        start = date.fromisoformat(valid_from)
        end = date.fromisoformat(valid_to) if valid_to else None
    except ValueError:
        _fail(MianshenError("dates must be YYYY-MM-DD"))
    try:
        with session_scope() as session:
            cert = service.issue_certificate(session, cert_type, keyring().subject_key(id_number),
                                             holder_name, issuer, start, end, grant_ref)
            cert_id = cert.cert_id
    except MianshenError as error:
        _fail(error)
    console.print(cert_id)


@app.command("list")
def list_(
    cert_type: CertType | None = typer.Option(None, "--type"),
    status: CertStatus | None = typer.Option(None),
    limit: int = typer.Option(100, min=1, max=10_000),
    json_output: bool = JSON_OPTION,
) -> None:
    """Certificates, oldest first."""
    with session_scope() as session:
        views = [api.view_of(c) for c in repository.list_certificates(
            session, cert_type.value if cert_type else None, status.value if status else None,
            limit)]
    if json_output:
        print_json([v.model_dump(mode="json") for v in views])
        return
    table = Table("certificate id", "type", "holder", "valid to", "status")
    for view in views:
        table.add_row(view.cert_id, view.type_name, view.holder,
                      str(view.valid_to or "长期"), view.status)
    console.print(table)


@app.command()
def show(cert_id: str, json_output: bool = JSON_OPTION) -> None:
    """One certificate's record fields (holder masked) and its token."""
    with session_scope() as session:
        cert = repository.get_certificate(session, cert_id)
        if cert is None:
            _fail(MianshenError(f"certificate {cert_id} not found"))
        view, token = api.view_of(cert), service.token_of(cert)
        record_access(session, cli_principal(), cert.subject_key, "certificate_show",
                      api.VIEW_FIELDS, channel="cli")
    data = view.model_dump(mode="json") | {"token": token}
    if json_output:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/bold]: {value}", soft_wrap=True)


@app.command()
def verify(
    token_or_id: str = typer.Argument(..., help="A token or a certificate id (1.2.156...)."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Verify against current keys and status lists; exit code 1 when not valid."""
    is_id = token_or_id.startswith("1.2.156.")
    with session_scope() as session:
        result = service.verify_online(session, token=None if is_id else token_or_id,
                                       cert_id=token_or_id if is_id else None)
    if json_output:
        print_json(result.model_dump(mode="json"))
    else:
        colour = "green" if result.valid else "red"
        console.print(f"[{colour}]{result.outcome}[/{colour}] {result.message}")
    if not result.valid:
        raise typer.Exit(1)


def _set_status(cert_id: str, status: CertStatus, reason: str) -> None:
    try:
        with session_scope() as session:
            service.set_status(session, cert_id, status, reason)
    except MianshenError as error:
        _fail(error)
    console.print(f"{cert_id}: {status.value}")


@app.command()
def revoke(cert_id: str, reason: str = typer.Option(..., help="Why (no personal data).")) -> None:
    """Revoke for good (the status list shows it at once)."""
    _set_status(cert_id, CertStatus.REVOKED, reason)


@app.command()
def suspend(cert_id: str, reason: str = typer.Option(...)) -> None:
    _set_status(cert_id, CertStatus.SUSPENDED, reason)


@app.command()
def reinstate(cert_id: str, reason: str = typer.Option(...)) -> None:
    _set_status(cert_id, CertStatus.VALID, reason)


@app.command()
def qr(cert_id: str, out: Path = typer.Option(..., help="File to write (.svg or .png).")) -> None:
    """Write the certificate's QR code (its compact signed token)."""
    kind = "png" if out.suffix.lower() == ".png" else "svg"
    with session_scope() as session:
        cert = repository.get_certificate(session, cert_id)
        if cert is None:
            _fail(MianshenError(f"certificate {cert_id} not found"))
        token = service.token_of(cert)
    out.write_bytes(rendering.qr_code(token, kind))
    console.print(f"wrote {out}")


@app.command()
def status(issuer: str, json_output: bool = JSON_OPTION) -> None:
    """The issuer's freshly signed status list (what offline verifiers fetch)."""
    try:
        with session_scope() as session:
            view = service.status_list_for(session, issuer)
    except MianshenError as error:
        _fail(error)
    if json_output:
        print_json(view.model_dump(mode="json"))
        return
    console.print(view.token, soft_wrap=True)


@app.command("import")
def import_(
    tokens: Path = typer.Argument(..., help="File with one certificate token per line."),
    trusted: Path = typer.Option(..., "--issuers", help="JSON of trusted published issuers."),
    lists: Path | None = typer.Option(None, "--status-lists",
                                      help="JSON object: issuer code -> status-list token."),
    holder_id: str | None = typer.Option(None, help="ID number of the holder (becomes the "
                                         "pseudonymous subject key; never stored in clear)."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Import externally issued certificates: verified ones are accepted, the rest quarantined."""
    try:
        issuers_json = json.loads(trusted.read_text(encoding="utf-8"))
        lists_json = json.loads(lists.read_text(encoding="utf-8")) if lists else None
        lines = [line for line in tokens.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as error:
        _fail(MianshenError(f"cannot read input: {error}"))
    subject = keyring().subject_key(holder_id) if holder_id else None
    outcomes: dict[str, int] = {}
    with session_scope() as session:
        for line in lines:
            row = imports.import_certificate(session, line, issuers_json, lists_json, subject)
            label = row.outcome if row.outcome == "accepted" else f"quarantined:{row.reason}"
            outcomes[label] = outcomes.get(label, 0) + 1
    if json_output:
        print_json(outcomes)
        return
    for label, count in sorted(outcomes.items()):
        console.print(f"{label}: {count}")
