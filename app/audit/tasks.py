"""Thin Celery task: publish a signed tree head periodically (beat schedule, e.g. every 5 min).

``shared_task`` binds to whichever Celery app is current, so this module imports without the
project's Celery app; the task opens its own unit of work and calls the service. Where tasks run
in-process (no Redis), call :func:`publish_tree_head_now` directly.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from app.audit import service
from app.db import session_scope


def publish_tree_head_now(*, only_if_grown: bool = True) -> dict[str, Any]:
    with session_scope() as session:
        tree_head = service.publish_tree_head(session, only_if_grown=only_if_grown)
    return {"id": tree_head.id, "tree_size": tree_head.tree_size, "root_hash": tree_head.root_hash}


@shared_task(name="audit.publish_tree_head", ignore_result=True)
def publish_tree_head() -> dict[str, Any]:
    return publish_tree_head_now(only_if_grown=True)
