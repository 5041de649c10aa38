"""Purge of spent sign-in state: sessions that ended, expired or went idle, and SMS sign-in
codes that expired or were used, once they are ``purge_after_hours`` past that moment (kept a
while for support and incident questions, then deleted: they are personal data without a
further purpose).

Run by the Celery beat schedule (``auth.purge_expired``, hourly), in-process by the server on
the embedded default (no Redis, so no beat: :func:`run_in_process_when_due`), and on demand with
``mianshen sessions purge``. Each run is two DELETE statements; running it twice or on several
workers at once is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool

from app.auth.models import AuthSession, OneTimeCode
from app.auth.tokens import utcnow
from app.db import session_scope
from app.settings import get_settings

log = logging.getLogger(__name__)

IN_PROCESS_EVERY_SECONDS = 3600.0


class PurgeReport(BaseModel):
    sessions: int
    codes: int
    before: datetime


def purge_expired(session: Session, now: datetime | None = None) -> PurgeReport:
    """Delete sessions and codes spent more than ``purge_after_hours`` before ``now``."""
    settings = get_settings().auth
    cutoff = (now or utcnow()) - timedelta(hours=settings.purge_after_hours)
    idle = timedelta(minutes=settings.session_idle_minutes)
    sessions = session.execute(delete(AuthSession).where(or_(
        col(AuthSession.ended_at) < cutoff,
        col(AuthSession.expires_at) < cutoff,
        col(AuthSession.last_seen_at) < cutoff - idle,
    )))
    codes = session.execute(delete(OneTimeCode).where(or_(
        col(OneTimeCode.used_at) < cutoff,
        col(OneTimeCode.expires_at) < cutoff,
    )))
    report = PurgeReport(sessions=int(getattr(sessions, "rowcount", 0) or 0),
                         codes=int(getattr(codes, "rowcount", 0) or 0), before=cutoff)
    log.info("purged %d spent sessions and %d sign-in codes", report.sessions, report.codes)
    return report


_last_run = 0.0
_running = threading.Lock()


def run_in_process_when_due(engine: Engine) -> PurgeReport | None:
    """On the embedded default: purge when the last run of this process is an hour old (the
    server calls this now and then from a worker thread); ``None`` when not due."""
    global _last_run
    if get_settings().redis_url or not _running.acquire(blocking=False):
        return None
    try:
        if time.monotonic() - _last_run < IN_PROCESS_EVERY_SECONDS and _last_run:
            return None
        _last_run = time.monotonic()
        with session_scope(engine) as session:
            return purge_expired(session)
    finally:
        _running.release()


async def in_process_loop(engine_of: Callable[[], Engine], every: float = 600.0) -> None:
    """The server's background loop on the embedded default: every ``every`` seconds, purge when
    due (a failure is logged and retried at the next turn, never fatal to the server)."""
    while True:
        try:
            await run_in_threadpool(run_in_process_when_due, engine_of())
        except Exception:
            log.exception("in-process purge of spent sessions failed")
        await asyncio.sleep(every)
