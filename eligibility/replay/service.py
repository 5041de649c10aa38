"""Re-evaluating a stored decision from what it recorded, and only that.

The policy is the registry's version whose content hash the decision names (stored text that no
longer hashes to it is evaluated as it is and reported as a difference; a decision made from a
bundled file never published uses that file while it hashes the same); the inputs are the
decision's JSON input snapshot (checked against its ``inputs_hash``) turned back into
evaluation frames; the date is the decision's ``as_of``. Evaluation is the sweep's own path
(``engine_backend``: the same compiled plan, one subject's rows), so a replay reproduces the
recorded outcome, parameters and condition values exactly unless a recorded input, the policy
text or the engine's behaviour changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import polars as pl
from sqlmodel import Session

from app import ENGINE_VERSION
from app.errors import NotFound
from eligibility.frames import SubjectData, conform
from eligibility.grants.models import Decision
from eligibility.policy import CompiledPolicy, load_file
from eligibility.policy.loader import policy_files
from eligibility.registry import service as registry
from eligibility.replay.schemas import Difference, ReplayReport
from eligibility.service import POLICY_DIR
from eligibility.sweeps.backend import RESULT_COLUMNS
from eligibility.sweeps.engine_backend import EngineBackend, to_spec


def _plain(value: Any) -> Any:
    """JSON round trip with the decision writer's conventions (dates as ISO text)."""
    return json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def frames_from_snapshot(kind: str, snapshot: dict[str, list[dict[str, Any]]]) -> SubjectData:
    """Evaluation frames from a decision's input snapshot (dataset name → rows)."""
    frames = {
        name: conform(name, pl.DataFrame(rows, infer_schema_length=None))
        for name, rows in snapshot.items()
        if rows
    }
    return SubjectData(kind, frames)


def replay(session: Session, decision_id: int) -> ReplayReport:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id}", "未找到该决定")
    assert decision.id is not None
    policy = _recorded_policy(session, decision)
    spec = to_spec(policy)
    differences: list[Difference] = []
    if policy.version != decision.policy_version:  # the stored text was altered
        differences.append(Difference(field="policy_version", recorded=decision.policy_version,
                                      replayed=policy.version))
    actual_hash = hashlib.sha256(decision.inputs.encode()).hexdigest()
    if actual_hash != decision.inputs_hash:
        differences.append(Difference(field="inputs_hash", recorded=decision.inputs_hash,
                                      replayed=actual_hash))
    data = frames_from_snapshot(decision.subject_kind, json.loads(decision.inputs))
    result = EngineBackend().evaluate(spec, data, decision.as_of)
    row = result.filter(pl.col("subject_key") == decision.subject_key)
    replayed = _outcome(row)
    recorded = {"eligible": decision.eligible, "tier": decision.tier,
                "amount_fen": decision.amount_fen}
    differences += _compare("", recorded, replayed["outcome"])
    differences += _compare("parameters.", json.loads(decision.parameters),
                            _plain(spec.parameters_at(decision.as_of)))
    differences += _compare("condition.", json.loads(decision.explanation),
                            replayed["conditions"])
    return ReplayReport(
        decision_id=decision.id, policy_id=decision.policy_id,
        policy_version=decision.policy_version, subject_kind=decision.subject_kind,
        subject_key=decision.subject_key, as_of=decision.as_of,
        engine_version_recorded=decision.engine_version, engine_version_now=ENGINE_VERSION,
        outcome="different" if differences else "identical", differences=differences,
    )


def _recorded_policy(session: Session, decision: Decision) -> CompiledPolicy:
    """The registry's version of the recorded hash; for a decision made from a bundled file the
    registry does not hold, the bundled file of that policy when it still hashes the same."""
    try:
        return registry.stored_policy(session, decision.policy_version)
    except NotFound:
        for path in policy_files(POLICY_DIR):
            if path.stem == decision.policy_id:
                bundled = load_file(path)
                if bundled.version == decision.policy_version:
                    return bundled
        raise NotFound(
            f"policy version {decision.policy_version[:16]}… of decision {decision.id} is neither "
            "in the registry nor the bundled catalog", "政策版本库中没有该决定所用的政策版本"
        ) from None


def _outcome(row: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """The replayed outcome and condition values of the one subject (not eligible when the
    snapshot no longer yields the subject at all)."""
    if row.is_empty():
        return {"outcome": {"eligible": False, "tier": None, "amount_fen": None},
                "conditions": {}}
    values = row.row(0, named=True)
    eligible = bool(values["eligible"])
    conditions = [c for c in row.columns if c not in RESULT_COLUMNS]
    encoded = (
        row.select(pl.struct(conditions).struct.json_encode()).item() if conditions else "{}"
    )
    amount = values["amount_fen"]
    return {
        "outcome": {"eligible": eligible, "tier": None if values["tier"] is None else
                    str(values["tier"]), "amount_fen": None if amount is None else int(amount)},
        "conditions": json.loads(encoded),
    }


def _compare(prefix: str, recorded: dict[str, Any], replayed: dict[str, Any]) -> list[Difference]:
    names = sorted(set(recorded) | set(replayed))
    return [
        Difference(field=f"{prefix}{name}", recorded=recorded.get(name),
                   replayed=replayed.get(name))
        for name in names
        if recorded.get(name) != replayed.get(name)
    ]
