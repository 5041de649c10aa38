"""``mianshen serve``: the API and the pages with uvicorn (the factory ``app.main:create_app``)."""

from __future__ import annotations

import typer
import uvicorn

from app.cli.output import console

WORKER_HEALTHCHECK_SECONDS = 60


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the REST API (/api/v1, docs at /docs) and the pages (/, /citizen, /enterprise)."""
    console.print(f"pages: http://{host}:{port}/  ·  API docs: http://{host}:{port}/docs")
    uvicorn.run(
        "app.main:create_app", factory=True, host=host, port=port, workers=workers,
        log_level="info", access_log=False, proxy_headers=False,
        # uvicorn kills a worker that does not answer its supervisor's ping within this time
        # (default 5 s): on a loaded machine a worker still importing the application, or busy,
        # was killed and restarted in a loop.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
