"""The seam between the auto-grant pipeline and the policy engine.

The pipeline needs four things from the engine, and only these: the policies in force on a date
(as :class:`PolicySpec`), evaluation frames loaded for a subject kind and a selection of subjects,
the vectorised evaluation of one policy over those frames as of a date, and a snapshot of the
inputs each subject was evaluated on. :class:`EvaluationBackend` is that contract.

The backend in use is named by ``MIANSHEN_SWEEP_BACKEND`` (``module:attribute``) so Celery worker
processes load the same one as the coordinator. Production uses ``engine_backend`` (the real
policy engine); tests name a backend written in test code.

The evaluation frame returned by ``evaluate`` has one row per subject with the columns
``subject_key`` (str), ``eligible`` (bool), ``tier`` (str or null), ``amount_fen`` (int or null)
and one column per named condition (its value: the explanation's raw material); a child policy's
frame also has ``payee_key`` (the guardian paid and told).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

import polars as pl
from sqlalchemy.engine import Connection, Engine

from app.settings import get_settings

RESULT_COLUMNS = ("subject_key", "eligible", "tier", "amount_fen")


class BenefitKind(StrEnum):
    RECURRING_CASH = "recurring_cash"
    ONE_OFF_CASH = "one_off_cash"
    CERTIFICATE = "certificate"
    VOUCHER = "voucher"
    ENROLMENT = "enrolment"


class ProcessStep(StrEnum):
    INTERNAL_REVIEW = "internal_review"
    PUBLIC_NOTICE = "public_notice"
    CONFIRMATION = "confirmation"


class StartRule(StrEnum):
    SAME_PERIOD = "same_period"  # the period in which eligibility begins is paid
    NEXT_PERIOD = "next_period"  # payment starts with the period after


@dataclass(frozen=True)
class PolicySpec:
    """What the pipeline needs to know about one policy version."""

    id: str
    version: str  # SHA-256 of the policy's canonical content
    subject_kind: str  # person, enterprise, child (per birth certificate, paid to a guardian)
    title: str
    benefit_kind: BenefitKind
    period_kind: str = "none"  # month, year, once, none
    start_rule: StartRule = StartRule.SAME_PERIOD
    # A new tier applies from the period after the one in which the evaluation first shows it
    # (NEXT_PERIOD), or from that period itself when the policy's own rule already shifts it
    # (SAME_PERIOD, e.g. a tier by "age at the end of last month").
    retier_rule: StartRule = StartRule.NEXT_PERIOD
    process: tuple[ProcessStep, ...] = ()  # empty: auto-grant
    notice_working_days: int = 5
    effective_from: date = date(2000, 1, 1)
    effective_to: date | None = None
    legacy_benefit_code: str | None = None  # benefit_code of the legacy_payment dataset
    notification_template: str | None = None
    # parameter name -> ((from date, value), ...), sorted by date
    parameters: Mapping[str, tuple[tuple[date, Any], ...]] = field(default_factory=dict)
    review_threshold_fen: int | None = None  # None: the settings' threshold
    source: Any = None  # the engine's own policy object

    @property
    def pays_money(self) -> bool:
        return self.benefit_kind in (BenefitKind.RECURRING_CASH, BenefitKind.ONE_OFF_CASH)

    @property
    def recurring(self) -> bool:
        return self.benefit_kind is BenefitKind.RECURRING_CASH

    def parameters_at(self, as_of: date) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, dated in self.parameters.items():
            for since, value in dated:
                if since <= as_of:
                    values[name] = value
        return values

    def parameter_changes(self, after: date, up_to: date) -> bool:
        """Whether a parameter takes a new value in (after, up_to]."""
        dates = (since for dated in self.parameters.values() for since, _ in dated)
        return any(after < since <= up_to for since in dates)

    def in_force(self, as_of: date) -> bool:
        ended = self.effective_to is not None and as_of > self.effective_to
        return self.effective_from <= as_of and not ended


@dataclass(frozen=True)
class Selection:
    """Which subjects of a kind: a key range [key_lo, key_hi) and, optionally, only these keys."""

    key_lo: str | None = None
    key_hi: str | None = None
    keys: tuple[str, ...] | None = None

    def contains(self, key: str) -> bool:
        return (self.key_lo is None or key >= self.key_lo) and (
            self.key_hi is None or key < self.key_hi
        )


class EvaluationBackend(Protocol):
    def policies(
        self, as_of: date, bind: Engine | Connection | None = None
    ) -> Sequence[PolicySpec]:
        """Every policy version in force on ``as_of`` (``bind``: the sweep's database, where a
        backend keeps its policy registry)."""

    def load(self, connection: Connection, subject_kind: str, selection: Selection) -> Any:
        """Evaluation frames of the selected subjects (opaque to the pipeline)."""

    def evaluate(self, policy: PolicySpec, frames: Any, as_of: date) -> pl.DataFrame:
        """One row per selected subject: ``RESULT_COLUMNS`` plus one column per condition."""

    def snapshot(self, frames: Any, subject_keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The inputs each subject was evaluated on, JSON-serialisable, keyed by subject key."""


class EngineUnavailable(RuntimeError):
    """The configured backend cannot evaluate (e.g. the policy engine is not installed)."""


@lru_cache
def _load_backend(path: str) -> EvaluationBackend:
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    backend: EvaluationBackend = getattr(module, attribute or "backend")
    return backend


def get_backend() -> EvaluationBackend:
    return _load_backend(get_settings().sweep_backend)
