"""The Celery app the pipeline's workers run (``celery -A eligibility.worker worker``).

It exists because the project's shared Celery app (``app/celery_app.py``) is being written on
the notifications branch. Once that lands, fold this in there and delete this module: include
``eligibility.sweeps.tasks`` and ``eligibility.events.tasks``, apply ``WORKER_SETTINGS`` and
``app.conf.beat_schedule.update(BEAT_SCHEDULE)``. The tasks are ``shared_task``s, so they bind
to whichever app is current.

Without ``MIANSHEN_REDIS_URL`` tasks run eagerly in process (the embedded default).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_init

from app.settings import get_settings
from app.wiring import install_hooks
from eligibility.sweeps.schedule import BEAT_SCHEDULE, TIMEZONE

TASK_MODULES = ["eligibility.sweeps.tasks", "eligibility.events.tasks"]


def worker_settings() -> dict[str, Any]:
    settings = get_settings()
    return {
        "task_acks_late": True,  # a message is acknowledged only after its task finished
        "task_reject_on_worker_lost": True,  # a killed worker gives its message back
        "worker_prefetch_multiplier": 1,  # shards are long: take one at a time
        "task_always_eager": settings.tasks_eager,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_expires": 24 * 3600,
        # Redis redelivers an unacknowledged message (its worker vanished) after this long.
        "broker_transport_options": {
            "visibility_timeout": max(settings.sweep_lease_seconds * 2, 10)
        },
        "timezone": TIMEZONE,
        "beat_schedule": BEAT_SCHEDULE,
    }


def make_celery() -> Celery:
    settings = get_settings()
    celery = Celery(
        "mianshen", broker=settings.redis_url or "memory://",
        backend=settings.redis_url or "cache+memory://", include=TASK_MODULES,
    )
    celery.conf.update(worker_settings())
    return celery


celery_app = make_celery()

# Every worker process installs the cross-domain hooks (SMS on grant changes, cancel on death).
worker_init.connect(install_hooks)
