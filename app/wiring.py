"""Cross-domain wiring that every process (CLI, web, Celery worker) installs once at start:
the grant pipeline's hooks that write SMS outbox rows and cancel them on a death."""

from __future__ import annotations

from typing import Any


def install_hooks(**_signal_kwargs: Any) -> None:
    from notifications.grant_hooks import install

    install()
