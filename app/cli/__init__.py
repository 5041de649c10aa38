"""The ``mianshen`` command line (typer). Each command group lives in its own module and only
parses arguments, opens the unit of work and prints; the work itself is in services."""

from __future__ import annotations

import typer

from app.cli import audit, certs, data, db, demo, notifications

cli = typer.Typer(
    name="mianshen",
    help="Mianshen (免申即享): policies find the people and enterprises they are meant for.",
    no_args_is_help=True,
    add_completion=False,
)
cli.add_typer(db.app, name="db")
cli.add_typer(data.app, name="data")
cli.add_typer(notifications.app, name="notifications")
cli.add_typer(notifications.sms_app, name="sms")
cli.add_typer(audit.app, name="audit")
cli.add_typer(certs.app, name="certs")
cli.add_typer(certs.verify_app, name="verify")
cli.command("demo")(demo.demo)


def main() -> None:
    cli()
