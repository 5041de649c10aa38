"""The Celery beat schedule of the pipeline: the incremental sweep every night just after
midnight China time (so a benefit due today is granted today) and the daily tick that raises
life-event reminders.

Hook it into the project's Celery app with ``app.conf.beat_schedule.update(BEAT_SCHEDULE)`` and
``app.conf.timezone = TIMEZONE`` (``app.celery_app`` merges it into the project's one Celery app).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from celery.schedules import crontab

TIMEZONE = "Asia/Shanghai"

BEAT_SCHEDULE = {
    "mianshen-nightly-incremental-sweep": {
        "task": "eligibility.sweeps.nightly_sweep",
        "schedule": crontab(hour=0, minute=20),
    },
    "mianshen-daily-life-event-tick": {
        "task": "eligibility.events.daily_tick",
        "schedule": crontab(hour=0, minute=5),
    },
}


def today_in_china() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date()
