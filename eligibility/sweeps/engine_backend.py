"""Production evaluation backend: adapts the policy engine (``eligibility.evaluator``,
``eligibility.repository`` and the policy loader) to the pipeline's seam
(:mod:`eligibility.sweeps.backend`).

Until the engine is merged every call raises :class:`EngineUnavailable` with a clear message;
the pipeline itself is exercised in tests through a backend written in test code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy.engine import Connection

from eligibility.sweeps.backend import EngineUnavailable, PolicySpec, Selection

_MESSAGE = (
    "the policy engine (eligibility.evaluator) is not available in this build; "
    "set MIANSHEN_SWEEP_BACKEND to another backend or install the engine"
)


class EngineBackend:
    def policies(self, as_of: date) -> Sequence[PolicySpec]:
        raise EngineUnavailable(_MESSAGE)

    def load(self, connection: Connection, subject_kind: str, selection: Selection) -> Any:
        raise EngineUnavailable(_MESSAGE)

    def evaluate(self, policy: PolicySpec, frames: Any, as_of: date) -> pl.DataFrame:
        raise EngineUnavailable(_MESSAGE)

    def snapshot(self, frames: Any, subject_keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        raise EngineUnavailable(_MESSAGE)


backend = EngineBackend()
