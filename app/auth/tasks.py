"""Celery task of the auth domain: the purge of spent sessions and sign-in codes
(``app.auth.purge``), hourly on the beat schedule of ``app.celery_app``."""

from __future__ import annotations

from typing import Any

from app.auth.purge import purge_expired
from app.celery_app import celery
from app.db import session_scope


@celery.task(name="auth.purge_expired")
def purge_expired_task() -> dict[str, Any]:
    with session_scope() as session:
        return purge_expired(session).model_dump(mode="json")
