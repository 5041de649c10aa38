"""Production evaluation backend: adapts the policy engine (``eligibility.policy`` loader,
``eligibility.evaluator``, ``eligibility.repository``, ``eligibility.frames``) to the pipeline's
seam (:mod:`eligibility.sweeps.backend`).

Policies come from the registry (``eligibility.registry``) where it decides for a policy id (it
holds an approved or retired version of it): the version in force on the sweep's as-of date, or
none. Other policy ids come from the bundled catalog (``policies/*.yaml``, or
``MIANSHEN_POLICY_DIR``), loaded once per directory state. A child-kind policy is evaluated per
birth certificate and its result carries ``payee_key`` (the guardian the grant pays and tells).

While the engine is not installed (it is built on another branch) every call raises
:class:`EngineUnavailable` with a clear message.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.engine import Connection, Engine

from eligibility.sweeps import snapshots
from eligibility.sweeps.backend import (
    BenefitKind,
    EngineUnavailable,
    PolicySpec,
    ProcessStep,
    Selection,
    StartRule,
)

ROOT = Path(__file__).resolve().parents[2]
_MESSAGE = (
    "the policy engine (eligibility.evaluator) is not available in this build; "
    "set MIANSHEN_SWEEP_BACKEND to another backend or install the engine"
)
KINDS = {"recurring_cash": BenefitKind.RECURRING_CASH, "one_off_cash": BenefitKind.ONE_OFF_CASH,
         "e_certificate": BenefitKind.CERTIFICATE, "voucher": BenefitKind.VOUCHER,
         "service_enrolment": BenefitKind.ENROLMENT}
PERIODS = {"monthly": "month", "yearly": "year", "once": "once"}
STEPS = {"internal_review": ProcessStep.INTERNAL_REVIEW,
         "public_notice": ProcessStep.PUBLIC_NOTICE,
         "beneficiary_confirmation": ProcessStep.CONFIRMATION}


def _engine() -> Any:
    try:
        return tuple(
            importlib.import_module(f"eligibility.{name}")
            for name in ("evaluator", "frames", "policy", "repository")
        )
    except ImportError as error:
        raise EngineUnavailable(_MESSAGE) from error


def to_spec(compiled: Any) -> PolicySpec:
    """The pipeline's view of a compiled policy."""
    document = compiled.document
    benefit, process = document.benefit, document.process
    steps = tuple(STEPS[s.value] for s in process.steps if s.value in STEPS)
    parameters = {
        name: tuple((v.from_, v.value) for v in sorted(spec.values, key=lambda v: v.from_))
        for name, spec in document.parameters.items()
    }
    kind = KINDS[benefit.kind.value]
    period = PERIODS.get(benefit.period.value, "month") if kind in (
        BenefitKind.RECURRING_CASH, BenefitKind.ONE_OFF_CASH) else "none"
    return PolicySpec(
        id=compiled.id, version=compiled.version, subject_kind=document.subject.kind.value,
        title=document.title, benefit_kind=kind, period_kind=period,
        process=steps, notice_working_days=process.public_notice_working_days or 5,
        effective_from=document.effective.from_, effective_to=document.effective.to,
        legacy_benefit_code=benefit.details.get("legacy_benefit_code"),
        notification_template=document.notification.template if document.notification else None,
        parameters=parameters,
        # The catalog states tiers "from the month after" in the policy itself.
        retier_rule=StartRule.SAME_PERIOD, source=compiled,
    )


class EngineBackend:
    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine  # the registry's database when a sweep names none
        self._loaded: tuple[tuple[tuple[str, float], ...], list[Any]] | None = None

    def _compiled(self) -> list[Any]:
        _, _, policy, _ = _engine()
        folder = Path(os.environ.get("MIANSHEN_POLICY_DIR", ROOT / "policies"))
        files = sorted(folder.glob("*.yaml"))
        state = tuple((str(f), f.stat().st_mtime) for f in files)
        if self._loaded is None or self._loaded[0] != state:
            self._loaded = (state, [policy.load_file(f) for f in files])
        return self._loaded[1]

    def _registered(
        self, as_of: date, bind: Engine | Connection | None
    ) -> tuple[set[str], list[Any]]:
        """Policy ids the registry decides for, and its versions in force on ``as_of``."""
        from sqlmodel import Session

        from app.db import get_engine
        from eligibility.registry import repository, service

        with Session(bind=bind or self.engine or get_engine()) as session:
            governed = repository.governed_policy_ids(session)
            if not governed:
                return set(), []
            return governed, list(service.in_force(session, as_of).values())

    def policies(
        self, as_of: date, bind: Engine | Connection | None = None
    ) -> Sequence[PolicySpec]:
        evaluator, _, _, _ = _engine()
        governed, registered = self._registered(as_of, bind)
        bundled = [c for c in self._compiled() if c.id not in governed]
        return [
            to_spec(c) for c in [*bundled, *registered] if evaluator.in_force(c, as_of)
        ]

    def load(self, connection: Connection, subject_kind: str, selection: Selection) -> Any:
        _, frames, _, repository = _engine()
        keys = list(selection.keys) if selection.keys is not None else None
        ranged = keys is None and (selection.key_lo is not None or selection.key_hi is not None)
        if ranged:  # a shard: read only its key range where the database can
            found = repository.load_key_range(
                connection.engine, subject_kind, selection.key_lo, selection.key_hi
            )
            if found is not None:
                return found
        data = repository.load_subject_data(connection.engine, subject_kind, keys)
        if ranged:
            column = data.base.get_column(data.view.key)
            inside = pl.lit(True)
            if selection.key_lo is not None:
                inside = inside & (pl.col("k") >= selection.key_lo)
            if selection.key_hi is not None:
                inside = inside & (pl.col("k") < selection.key_hi)
            wanted = pl.DataFrame({"k": column}).filter(inside).get_column("k").to_list()
            data = frames.restrict(data, wanted)
        return data

    def evaluate(self, policy: PolicySpec, frames: Any, as_of: date) -> pl.DataFrame:
        evaluator, _, _, _ = _engine()
        result: pl.DataFrame = evaluator.evaluate_population(policy.source, frames, as_of)
        return result

    def snapshot_texts(self, frames: Any, subject_keys: Sequence[str]) -> pl.DataFrame:
        """The canonical snapshot JSON of many subjects, built by Polars (see ``snapshots``)."""
        return snapshots.snapshot_texts(frames, subject_keys)

    def snapshot(self, frames: Any, subject_keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        _, frames_module, _, _ = _engine()
        data = frames_module.restrict(frames, list(subject_keys))
        view = data.view
        found: dict[str, dict[str, Any]] = {key: {} for key in subject_keys}
        base_rows = data.base.to_dicts()
        for row in base_rows:
            found[row[view.key]].setdefault(view.base, []).append(row)
        for relation in view.relations.values():
            owners: dict[Any, set[str]] = {}
            for row in base_rows:
                owners.setdefault(row.get(relation.subject_column), set()).add(row[view.key])
            for row in data.frame(relation.dataset).iter_rows(named=True):
                for column in relation.related_columns:
                    for owner in owners.get(row.get(column), ()):
                        found[owner].setdefault(relation.dataset, []).append(row)
        return found


backend = EngineBackend()
