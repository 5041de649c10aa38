"""The ``mianshen`` command line (typer). Each command group lives in its own module and only
parses arguments, opens the unit of work and prints; the work itself is in services."""

from __future__ import annotations

import typer

from app.cli import (
    access,
    audit,
    certs,
    data,
    db,
    demo,
    events,
    explain,
    grants,
    notifications,
    payments,
    policy_registry,
    privacy,
    serve,
    sweep,
    verify,
)
from app.wiring import install_hooks

cli = typer.Typer(
    name="mianshen",
    help="Mianshen (免申即享): policies find the people and enterprises they are meant for.",
    no_args_is_help=True,
    add_completion=False,
)
cli.add_typer(db.app, name="db")
cli.add_typer(access.apikeys, name="apikeys")
cli.add_typer(access.users, name="users")
cli.add_typer(access.sessions, name="sessions")
cli.add_typer(data.app, name="data")
cli.add_typer(notifications.app, name="notifications")
cli.add_typer(notifications.sms_app, name="sms")
cli.add_typer(audit.app, name="audit")
cli.add_typer(policy_registry.app, name="policy")  # policy.app plus the registry commands
cli.add_typer(certs.app, name="certs")
cli.add_typer(verify.app, name="verify")
cli.command("demo")(demo.demo)
cli.command("explain")(explain.explain)
cli.command("sweep")(sweep.sweep)
cli.command("serve")(serve.serve)
cli.add_typer(grants.app, name="grants")
cli.add_typer(payments.app, name="payments")
cli.add_typer(events.app, name="events")
cli.add_typer(privacy.app, name="privacy")
cli.add_typer(privacy.keys_app, name="keys")
audit.app.command("access")(privacy.access)


def main() -> None:
    install_hooks()
    cli()
