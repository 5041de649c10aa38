"""Thin Celery tasks of sweeps: they take ids, reload rows, and call the service.

``run_shard`` is idempotent (a done shard is skipped, a shard leased by a live worker is
retried later) and declared ``acks_late`` with ``reject_on_worker_lost`` so a worker killed
mid-shard gives the message back to the broker; its transaction never committed, so the shard
is simply redone. ``nightly_sweep`` is what the beat schedule runs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task

from app.db import get_engine


@shared_task(
    name="eligibility.sweeps.run_shard", bind=True, acks_late=True, reject_on_worker_lost=True,
    max_retries=None,
)
def run_shard(self: Any, shard_id: int) -> str:
    from app.settings import get_settings
    from eligibility.sweeps import service

    outcome = service.run_shard(get_engine(), shard_id)
    if outcome == "busy":
        # Another worker holds a live lease: look again once it could have expired.
        raise self.retry(countdown=min(get_settings().sweep_lease_seconds, 30))
    return outcome


@shared_task(name="eligibility.sweeps.nightly_sweep", acks_late=True)
def nightly_sweep(as_of: str | None = None) -> dict[str, Any]:
    """The incremental sweep as of today (Asia/Shanghai) or ``as_of`` (YYYY-MM-DD)."""
    from eligibility.sweeps import service
    from eligibility.sweeps.schedule import today_in_china

    day = date.fromisoformat(as_of) if as_of else today_in_china()
    return service.run_sweep(day).model_dump(mode="json")


def enqueue_shard(shard_id: int) -> None:
    """Hand a shard to the workers (called after the plan is committed)."""
    from app.celery_app import celery

    celery.send_task("eligibility.sweeps.run_shard", args=[shard_id])
