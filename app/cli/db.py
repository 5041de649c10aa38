"""``mianshen db``: schema migrations (Alembic is the only way the schema is made)."""

from __future__ import annotations

import typer

from app import migrations
from app.cli.output import console
from app.settings import get_settings

app = typer.Typer(
    help="Database schema: upgrade, downgrade, current revision.", no_args_is_help=True
)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrations.upgrade(get_settings().effective_database_url, revision)
    console.print(
        f"database at revision {migrations.current(get_settings().effective_database_url)}"
    )


@app.command()
def downgrade(revision: str = typer.Argument("base", help="Target revision.")) -> None:
    """Revert migrations down to REVISION (default: base, an empty database)."""
    migrations.downgrade(get_settings().effective_database_url, revision)
    console.print(
        f"database at revision {migrations.current(get_settings().effective_database_url)}"
    )


@app.command()
def current() -> None:
    """Print the current revision."""
    console.print(
        migrations.current(get_settings().effective_database_url) or "empty (no revision)"
    )
