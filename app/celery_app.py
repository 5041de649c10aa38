"""The project's one Celery application.

With ``MIANSHEN_REDIS_URL`` set, Redis is broker and result backend and workers run the tasks
(``celery -A app.celery_app worker``). Unset (the embedded default), every ``.delay()`` runs the
task in-process, eagerly. Tasks are acknowledged late and a task whose worker dies is requeued,
so every task must be safe to run twice (they are: they take ids and re-check state). Each
domain's ``tasks`` module is discovered here (the grant pipeline's sub-package task modules and
the auth domain's are included by name); the beat schedule drives the SMS outbox, the nightly
incremental sweep and the hourly purge of spent sign-in sessions and codes.
"""

from __future__ import annotations

from importlib.util import find_spec

from celery import Celery
from celery.signals import worker_init

from app.settings import get_settings
from app.wiring import install_hooks
from eligibility.sweeps.schedule import BEAT_SCHEDULE as SWEEP_BEAT_SCHEDULE

DOMAIN_PACKAGES = ("eligibility", "notifications", "certs")
SMS_RETRY_QUEUE = "sms-retry"
PIPELINE_TASK_MODULES = ["eligibility.sweeps.tasks", "eligibility.events.tasks", "app.auth.tasks"]


def create_celery() -> Celery:
    settings = get_settings()
    celery = Celery("mianshen", include=PIPELINE_TASK_MODULES)
    celery.conf.update(
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_reject_on_worker_lost=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone=settings.sms.timezone,
        enable_utc=True,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        task_routes={"notifications.dispatch_retries": {"queue": SMS_RETRY_QUEUE}},
        beat_schedule={
            "sms-dispatch-due": {"task": "notifications.dispatch_due", "schedule": 10.0},
            "sms-dispatch-retries": {"task": "notifications.dispatch_retries", "schedule": 10.0},
            "sms-reconcile-stale": {"task": "notifications.reconcile_stale", "schedule": 60.0},
            "auth-purge-expired": {"task": "auth.purge_expired", "schedule": 3600.0},
            **SWEEP_BEAT_SCHEDULE,
        },
        # Redis redelivers a message whose worker vanished after this long (a sweep shard's
        # lease is redone by another worker; see eligibility.sweeps).
        broker_transport_options={"visibility_timeout": max(settings.sweep_lease_seconds * 2, 10)},
    )
    if settings.redis_url:
        celery.conf.update(broker_url=settings.redis_url, result_backend=settings.redis_url)
    else:
        celery.conf.update(
            broker_url="memory://",
            result_backend="cache+memory://",
            task_always_eager=True,
            task_eager_propagates=True,
        )
    celery.autodiscover_tasks([name for name in DOMAIN_PACKAGES if find_spec(name)])
    return celery


celery = create_celery()
app = celery  # ``celery -A app.celery_app`` finds it under either name

# Every worker process installs the cross-domain hooks (SMS on grant changes, cancel on death).
worker_init.connect(install_hooks)
