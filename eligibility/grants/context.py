"""The unit of work of one shard of a sweep (or of one event): the session and connection it
writes through, the evaluation backend, the business date, and what it has done so far (grant
changes to hand to hooks, grants whose ledger must be reconciled, rows to log in the audit log,
counters)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from app import ENGINE_VERSION
from app.settings import get_settings
from eligibility.grants.audit_trail import AuditTrail
from eligibility.grants.hooks import GrantChange, Hook, fire
from eligibility.grants.periods import months_back
from eligibility.sweeps.backend import EvaluationBackend, PolicySpec


@dataclass
class SweepContext:
    session: Session
    backend_or_none: EvaluationBackend | None
    as_of: date
    sweep_id: int | None = None
    go_live: date | None = None  # as-of of the first completed sweep: back-pay never before
    actor: str = "system:sweep"
    engine_version: str = ENGINE_VERSION
    changes: list[GrantChange] = field(default_factory=list)
    reconcile_ids: set[int] = field(default_factory=set)  # grants needing a full reconcile
    counts: Counter[str] = field(default_factory=Counter)
    audit: AuditTrail = field(default_factory=AuditTrail)  # appended by ``flush_hooks``
    cache: dict[Any, Any] = field(default_factory=dict)  # reads shared by a unit's policies

    @property
    def backend(self) -> EvaluationBackend:
        if self.backend_or_none is None:
            raise RuntimeError("this unit of work has no evaluation backend")
        return self.backend_or_none

    @property
    def connection(self) -> Connection:
        return self.session.connection()

    def backpay_floor(self, policy: PolicySpec) -> date:
        """The earliest date a late-detected eligibility is paid back to."""
        floor = months_back(self.as_of, get_settings().backpay_months)
        return max(floor, policy.effective_from, self.go_live or self.as_of)

    def review_threshold(self, policy: PolicySpec) -> int:
        if policy.review_threshold_fen is not None:
            return policy.review_threshold_fen
        return get_settings().review_amount_threshold_fen

    def flush_hooks(self) -> None:
        """Hand the grant changes collected so far to the registered hooks, then append what
        was written to the audit log (same transaction; the last step before the commit)."""
        changes, self.changes = self.changes, []
        fire(self.session, Hook.GRANT_CHANGED, changes)
        logged = self.audit.append(self.session)
        if logged:
            self.counts["audit_entries"] += logged
