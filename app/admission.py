"""Admission control: at most ``limit`` requests of one process run at once; the others wait,
without a thread, before any dependency runs.

Sync dependencies and handlers run in a thread pool (40 threads) and each request holds one
database connection from its first query until it ends, while the engine's pool has 15. Under
load, threads blocked waiting for a connection starve the requests holding connections of the
threads they need to finish: requests then wait for the pool's 30 s timeout and fail (seen at
50 req/s in the "my benefits" benchmark). Waiting here first keeps every admitted request able
to finish."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

DEFAULT_LIMIT = 12  # below the pool's 5 + 10 connections


class AdmissionLimit:
    def __init__(self, app: ASGIApp, limit: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created inside the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)


def install(app: Any, limit: int = DEFAULT_LIMIT) -> None:
    app.add_middleware(AdmissionLimit, limit=limit)
