"""Cross-domain wiring that every process (CLI, web, Celery worker) installs once at start:
the grant pipeline's hooks that write SMS outbox rows and issue e-certificates, and on a death
cancel pending messages and revoke certificates."""

from __future__ import annotations

from typing import Any


def install_hooks(**_signal_kwargs: Any) -> None:
    from certs import grant_hooks as certificate_hooks
    from notifications import grant_hooks as notification_hooks

    notification_hooks.install()
    certificate_hooks.install()
