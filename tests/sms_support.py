"""Helpers of the SMS tests: persons in the population registry (personal data encrypted the
way the import stores it), a dispatcher pointed at a mock gateway, message requests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import redis
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.datahub.models import DeathRecord, Person
from app.privacy import keyring
from app.settings import SmsSettings
from notifications.dispatch import Dispatcher
from notifications.limits import (
    MemoryProviderHealth,
    MemoryRateLimiter,
    RedisProviderHealth,
    RedisRateLimiter,
)
from notifications.mock_gateway import sms_settings_for
from notifications.models import EventKind
from notifications.providers import providers_from_settings
from notifications.schemas import NotificationRequest

DAYTIME = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def add_person(
    session: Session,
    id_number: str,
    *,
    name: str = "陈大文",
    sex: str = "M",
    birth_date: date = date(1956, 11, 22),
    mobile: str | None = "13812345678",
    address: str | None = "佛山市禅城区祖庙路1号",
    status: str = "active",
) -> str:
    ring = keyring()
    pii: dict[str, Any] = {"id_number": id_number, "name": name}
    if mobile is not None:
        pii["mobile"] = mobile
    if address is not None:
        pii["address"] = address
    key = ring.subject_key(id_number)
    session.add(
        Person(
            subject_key=key,
            sex=sex,
            birth_date=birth_date,
            region_code="440604",
            mobile_index=ring.mobile_index(mobile) if mobile else None,
            status=status,
            source_dept="public_security",
            as_of=date(2026, 11, 1),
            pii=ring.encrypt_json(pii),
            row_hash="0" * 32,
            updated_at=datetime.now(UTC),
        )
    )
    session.flush()
    return key


def add_death(session: Session, subject_key: str, day: date = date(2026, 11, 20)) -> None:
    session.add(
        DeathRecord(
            subject_key=subject_key,
            date_of_death=day,
            source_kind="hospital",
            source_dept="health",
            as_of=day,
            row_hash="1" * 32,
            updated_at=datetime.now(UTC),
        )
    )
    session.flush()


def payment(subject_key: str, period: str = "2026-11", **changes: Any) -> NotificationRequest:
    fields: dict[str, Any] = {
        "subject_key": subject_key,
        "event": EventKind.PAYMENT_MADE,
        "grant_ref": "G-longevity-1",
        "period": period,
        "agency": "禅城区民政局",
        "template_set": "longevity_allowance",
        "variables": {"paid_on": "2026-11-22", "amount_fen": 20000},
        "batch_ref": "pay-2026-11",
    }
    fields.update(changes)
    return NotificationRequest(**fields)


def sms_settings(gateway_url: str, **overrides: Any) -> SmsSettings:
    values: dict[str, Any] = {
        **sms_settings_for(gateway_url),
        "backoff_base_seconds": 0.0,
        "claim_lease_seconds": 1.0,
        "read_timeout_seconds": 2.0,
        "connect_timeout_seconds": 1.0,
    }
    values.update(overrides)
    return SmsSettings(**values)


def dispatcher(
    engine: Engine,
    settings: SmsSettings,
    redis_url: str | None = None,
    *,
    now: datetime = DAYTIME,
) -> Dispatcher:
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        limiter: Any = RedisRateLimiter(client, settings)
        health: Any = RedisProviderHealth(client, settings)
    else:
        limiter, health = MemoryRateLimiter(settings), MemoryProviderHealth(settings)
    return Dispatcher(
        engine, providers_from_settings(settings), limiter, health, settings, clock=lambda: now
    )


class ServedApp:
    """Any ASGI app served by uvicorn on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: Any) -> None:
        import threading

        import uvicorn

        from notifications.mock_gateway import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServedApp:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
