"""Explaining a recorded decision by its id (``mianshen explain DECISION_ID``): what was decided,
why (each condition's recorded value, labelled in Chinese from the policy), and its provenance:
policy id and version hash, the parameter values used, the engine version, the sweep, and the
inputs with their source department and as-of date. The stored input snapshot is checked
against its SHA-256, and the decision's audit-log entry is named when there is one.

This reads what was recorded; it never re-evaluates. Explaining a subject against a policy
file as of a date (``explain POLICY SUBJECT --as-of``) is ``eligibility.explain``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session

from app.audit import repository as audit_repo
from app.errors import MianshenError, NotFound
from eligibility.display import department_zh, yuan
from eligibility.grants import repository as repo
from eligibility.grants.models import Decision

HIDDEN_INPUT_COLUMNS = frozenset({"pii", "row_hash", "id", "updated_at"})


def _policy_labels(policy_id: str) -> tuple[str, str | None, dict[str, str]]:
    """(title, current version, condition name -> description) from the catalog, if held."""
    from eligibility.service import find_policy

    try:
        compiled = find_policy(policy_id)
    except (MianshenError, OSError, ValueError):
        return policy_id, None, {}
    document = compiled.document
    labels = {c.name: c.description for c in document.conditions}
    return document.title, compiled.version, labels


def _inputs(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """Each input record with its dataset, source department and as-of date (no PII columns)."""
    records = []
    for dataset in sorted(snapshot):
        rows = snapshot[dataset] if isinstance(snapshot[dataset], list) else [snapshot[dataset]]
        for row in rows:
            if not isinstance(row, dict):
                continue
            source = row.get("source_dept")
            records.append({
                "dataset": dataset, "source_dept": source, "source_dept_zh": department_zh(source),
                "as_of": row.get("as_of"),
                "fields": {k: v for k, v in sorted(row.items())
                           if k not in HIDDEN_INPUT_COLUMNS | {"source_dept", "as_of"}},
            })
    return records


def _summary(decision: Decision, failed: list[str]) -> str:
    if decision.eligible:
        amount = f",金额{yuan(decision.amount_fen)}" if decision.amount_fen is not None else ""
        tier = f",档次{decision.tier}" if decision.tier else ""
        return f"符合条件{tier}{amount}。"
    return "不符合条件:" + ";".join(failed) + "。" if failed else "不符合条件。"


def explain_decision(session: Session, decision_id: int) -> dict[str, Any]:
    decision = repo.decision(session, decision_id)
    if decision is None:
        raise NotFound(f"decision {decision_id} not found", "未找到该决定记录")
    title, current_version, labels = _policy_labels(decision.policy_id)
    recorded = json.loads(decision.explanation or "{}")
    # The policy's conditions in its order; without the policy file, the boolean values.
    names = [n for n in labels if n in recorded] or [
        n for n, v in recorded.items() if isinstance(v, bool)]
    conditions = [
        {"name": name, "description": labels.get(name, name), "value": recorded[name],
         "passed": recorded[name] is True}
        for name in names
    ]
    details = {n: v for n, v in recorded.items() if n not in names}
    failed = [c["description"] for c in conditions if not c["passed"]]
    entry = audit_repo.entry_by_ref(session, "decision", str(decision_id))
    return {
        "decision_id": decision.id,
        "policy": {"id": decision.policy_id, "title": title, "version": decision.policy_version,
                   "is_current_version": current_version == decision.policy_version
                   if current_version else None},
        "subject": {"kind": decision.subject_kind, "key": decision.subject_key},
        "as_of": decision.as_of.isoformat(),
        "outcome": {"eligible": decision.eligible, "tier": decision.tier,
                    "amount_fen": decision.amount_fen},
        "summary": _summary(decision, failed),
        "conditions": conditions,
        "details": details,  # grant details the evaluation gave (start month, payee, ...)
        "flags": [f for f in decision.flags.split(",") if f],
        "parameters": json.loads(decision.parameters or "{}"),
        "engine_version": decision.engine_version,
        "sweep_id": decision.sweep_id,
        "recorded_at": decision.created_at.isoformat(),
        "is_current": decision.is_current,
        "inputs": _inputs(json.loads(decision.inputs or "{}")),
        "inputs_hash": decision.inputs_hash,
        "inputs_intact": hashlib.sha256(decision.inputs.encode()).hexdigest()
        == decision.inputs_hash,
        "audit_entry": entry.seq if entry is not None else None,
    }
