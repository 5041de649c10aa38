"""Hook registry: other domains react to grant changes and deaths inside the same transaction.

Notifications register a ``GRANT_CHANGED`` hook to write outbox rows (granted, suspended, ended,
tier changed, confirmation needed, notice started), an ``OBJECTION_RESOLVED`` hook to tell the
objector the outcome and a ``SUBJECT_DIED`` hook to cancel pending messages; e-certificates
register hooks to issue on ``granted`` and to revoke on death or end. Hooks receive the caller's
session and a batch (sweeps fire thousands at once); they must only flush, never commit. A
failing hook fails the whole unit of work, so nothing is half done.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlmodel import Session


class Hook(StrEnum):
    GRANT_CHANGED = "grant_changed"  # payload: Sequence[GrantChange]
    SUBJECT_DIED = "subject_died"  # payload: Sequence[Death]
    PAYMENTS_BATCHED = "payments_batched"  # payload: Sequence[int] (payment ids)
    OBJECTION_RESOLVED = "objection_resolved"  # payload: Sequence[ObjectionResolved]


@dataclass(frozen=True)
class GrantChange:
    grant_id: int
    policy_id: str
    subject_kind: str
    subject_key: str
    from_state: str | None
    to_state: str
    reason: str
    effective_date: date
    amount_fen: int | None = None
    tier: str | None = None
    payee_key: str | None = None  # who is paid and told, when not the subject (a guardian)

    @property
    def recipient_key(self) -> str:
        """The person paid and told: the payee (a child's guardian), else the subject."""
        return self.payee_key or self.subject_key


@dataclass(frozen=True)
class ObjectionResolved:
    """An officer's outcome on a beneficiary's objection (during a notice or at any time)."""

    objection_id: int
    grant_id: int
    policy_id: str
    subject_kind: str
    recipient_key: str  # the objector: the payee (a child's guardian), else the subject
    upheld: bool
    resolved_on: date


@dataclass(frozen=True)
class Death:
    subject_key: str
    date_of_death: date
    event_id: int | None  # life_event id, when it came as an event


HookFunction = Callable[[Session, Sequence[Any]], None]
_registry: dict[Hook, list[HookFunction]] = defaultdict(list)


def register(hook: Hook, function: HookFunction) -> HookFunction:
    """Register ``function`` for ``hook`` (idempotent); usable as a decorator factory's target."""
    if function not in _registry[hook]:
        _registry[hook].append(function)
    return function


def unregister(hook: Hook, function: HookFunction) -> None:
    if function in _registry[hook]:
        _registry[hook].remove(function)


def has_hooks(hook: Hook) -> bool:
    """Whether anything listens to ``hook`` (bulk code skips building an unused payload)."""
    return bool(_registry[hook])


def fire(session: Session, hook: Hook, payload: Sequence[Any]) -> None:
    if not payload:
        return
    for function in list(_registry[hook]):
        function(session, payload)
