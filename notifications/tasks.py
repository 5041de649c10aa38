"""Thin Celery tasks of the SMS outbox. They take no row data (the outbox in the database is
the queue of record), build one ``Dispatcher`` per worker process and run a bounded amount of
work; running any of them twice, or concurrently on many workers, is safe.

``dispatch_due`` sends first attempts, ``dispatch_retries`` (routed to the ``sms-retry`` queue)
sends the retry queue, ``reconcile_stale`` resolves hand-offs whose worker died. Callers enqueue
``dispatch_due`` after their transaction commits; the beat schedule also runs all three.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from app.celery_app import celery
from app.db import get_engine
from app.settings import get_settings
from notifications.dispatch import Dispatcher
from notifications.limits import limits_from_settings
from notifications.models import NotificationStatus
from notifications.providers import providers_from_settings

TIME_BUDGET_SECONDS = 20.0


@lru_cache(maxsize=1)
def dispatcher() -> Dispatcher:
    """This process's dispatcher (HTTP connection pools and Redis client are reused)."""
    settings = get_settings()
    limiter, health = limits_from_settings(settings.sms, settings.redis_url)
    return Dispatcher(
        get_engine(), providers_from_settings(settings.sms), limiter, health, settings.sms
    )


@celery.task(name="notifications.dispatch_due")
def dispatch_due(time_budget: float = TIME_BUDGET_SECONDS) -> dict[str, Any]:
    report = dispatcher().dispatch_due(
        statuses=[NotificationStatus.CREATED], time_budget=time_budget
    )
    return report.model_dump()


@celery.task(name="notifications.dispatch_retries")
def dispatch_retries(time_budget: float = TIME_BUDGET_SECONDS) -> dict[str, Any]:
    report = dispatcher().dispatch_due(
        statuses=[NotificationStatus.RETRYING], time_budget=time_budget
    )
    return report.model_dump()


@celery.task(name="notifications.reconcile_stale")
def reconcile_stale() -> dict[str, Any]:
    return dispatcher().reconcile_stale().model_dump()
