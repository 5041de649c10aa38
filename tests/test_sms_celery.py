"""A real Celery worker process on real Redis (db 14) and PostgreSQL dispatches the outbox:
every message reaches the mock gateway exactly once, even when the tasks are sent many times."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from app.db import engine_for, session_scope
from notifications import service
from notifications.mock_gateway import ThreadedGateway, sms_settings_for
from tests.sms_support import add_person, payment

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
CELERY_REDIS = "redis://127.0.0.1:6379/14"
ROOT = Path(__file__).resolve().parent.parent


def test_worker_dispatches_each_message_once(pg_url: str, tmp_path: Path) -> None:
    try:
        redis.Redis.from_url(CELERY_REDIS).flushdb()
    except redis.RedisError as error:
        pytest.skip(f"Redis unreachable: {error}")
    engine = engine_for(pg_url)
    with session_scope(engine) as session:
        keys = [add_person(session, f"4406041956{n:07d}9", mobile=f"135{n:08d}") for n in range(60)]
        service.enqueue_many(
            session, [payment(key, urgent=True, grant_ref="celery") for key in keys]
        )
    with ThreadedGateway() as gateway:
        env = {
            **os.environ,
            "MIANSHEN_DATABASE_URL": pg_url,
            "MIANSHEN_REDIS_URL": CELERY_REDIS,
            "MIANSHEN_HOME": str(tmp_path),
            "MIANSHEN_SMS__BATCH_SIZE": "7",
        }
        env.update(
            {f"MIANSHEN_SMS__{k.upper()}": str(v) for k, v in sms_settings_for(gateway.url).items()}
        )
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "app.celery_app",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "3",
                "-Q",
                "celery,sms-retry",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            client = Celery("test-client", broker=CELERY_REDIS)
            for _ in range(6):  # the same task many times, run concurrently
                client.send_task("notifications.dispatch_due")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and gateway.client.stats()["unique"] < 60:
                time.sleep(0.3)
            time.sleep(1.0)
            stats = gateway.client.stats()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert stats["unique"] == 60 and stats["duplicates"] == 0 and stats["accepted"] == 60
    with session_scope(engine) as session:
        assert service.delivery_stats(session).by_status == {"sent": 60}
