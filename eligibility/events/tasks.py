"""Thin Celery tasks of life events: the daily tick (reminders) and the re-evaluation of the
subjects events asked for (an incremental sweep, which picks up pending requests). Enqueued
after the ingesting transaction commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task

from app.db import get_engine


@shared_task(name="eligibility.events.daily_tick", acks_late=True)
def daily_tick(as_of: str | None = None) -> int:
    from eligibility.events import service
    from eligibility.sweeps.schedule import today_in_china

    day = date.fromisoformat(as_of) if as_of else today_in_china()
    return service.daily_tick(get_engine(), day)


@shared_task(name="eligibility.events.reevaluate", acks_late=True)
def reevaluate(as_of: str) -> dict[str, Any]:
    from eligibility.sweeps import service

    return service.run_sweep(date.fromisoformat(as_of)).model_dump(mode="json")
