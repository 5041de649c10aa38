"""The explanation of one subject's decision, in plain Chinese, from the same compiled plan.

:func:`explain` restricts the data to the subject's rows and runs the plan the population
evaluation runs (``evaluator.run_plan``), then reads each condition's value, quotes the inputs
with their source department and as-of date, and for failed conditions adds the reasons and what
would make them pass (``hints``). The result carries everything a decision record needs:
policy id and version hash, parameter values in force, engine version, the input snapshot and
its SHA-256, and the explanation itself (PIPL art. 24).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from app.errors import NotFound
from eligibility.compiler import symbol_column
from eligibility.display import department_zh, jsonable, show, yuan
from eligibility.evaluator import EvaluationRun, build_plan, prepare, run_plan
from eligibility.frames import SubjectData, restrict
from eligibility.hints import HintContext, hints
from eligibility.policy.compile import CompiledPolicy


@dataclass
class ConditionResult:
    name: str
    description: str
    value: bool | None
    passed: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class InputValue:
    name: str
    label: str
    value: Any
    display: str
    source: str  # dataset, or "derived"
    source_dept: str | None = None
    source_dept_zh: str | None = None
    as_of: str | None = None


@dataclass
class RelatedRecords:
    relation: str
    label: str
    records: list[dict[str, Any]]


@dataclass
class Explanation:
    run: EvaluationRun
    title: str
    subject_key: str
    eligible: bool
    in_force: bool
    tier: str | None
    amount_fen: int | None
    conditions: list[ConditionResult]
    inputs: list[InputValue]
    derived: list[InputValue]
    related: list[RelatedRecords]
    failing: list[str]
    summary: str
    result_row: dict[str, Any]
    input_snapshot_hash: str = ""

    def input_snapshot(self) -> dict[str, Any]:
        return {
            "subject_key": self.subject_key,
            "fields": {
                i.name: {"value": i.value, "source_dept": i.source_dept, "as_of": i.as_of}
                for i in self.inputs
            },
            "related": {r.relation: r.records for r in self.related},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.run.to_dict(),
            "title": self.title,
            "subject_key": self.subject_key,
            "eligible": self.eligible,
            "in_force": self.in_force,
            "tier": self.tier,
            "amount_fen": self.amount_fen,
            "summary": self.summary,
            "failing": self.failing,
            "conditions": [asdict(c) for c in self.conditions],
            "inputs": [asdict(i) for i in self.inputs],
            "derived": [asdict(d) for d in self.derived],
            "related": [asdict(r) for r in self.related],
            "input_snapshot": self.input_snapshot(),
            "input_snapshot_hash": self.input_snapshot_hash,
            "result": {k: jsonable(v) for k, v in self.result_row.items()},
        }


def explain(
    policy: CompiledPolicy, data: SubjectData, subject_key: str, as_of: date
) -> Explanation:
    plan = build_plan(policy, as_of)
    own = restrict(data, [subject_key])
    rows = run_plan(plan, own).to_dicts()
    if not rows:
        raise NotFound(f"subject not in the {policy.view.kind} data", "未找到该对象的数据")
    result = rows[0]
    prepared = prepare(plan, own).collect()
    ctx = HintContext(plan, prepared, own)
    conditions = []
    for symbol in policy.conditions():
        value = result[symbol.name]
        reasons = [] if value is True else hints(ctx, symbol.node, symbol.text)
        conditions.append(
            ConditionResult(symbol.name, symbol.description, value, value is True, reasons)
        )
    in_force = bool(prepared.get_column("~in_force").item())
    failing = [] if in_force else ["政策在基准日不在有效期内"]
    for c in conditions:
        if not c.passed:
            failing.extend(c.reasons or [f"不满足:{c.description}"])
    explanation = Explanation(
        run=plan.run,
        title=policy.document.title,
        subject_key=subject_key,
        eligible=bool(result["eligible"]),
        in_force=in_force,
        tier=result.get("tier"),
        amount_fen=result.get("amount_fen"),
        conditions=conditions,
        inputs=_inputs(policy, prepared),
        derived=_derived(policy, prepared),
        related=_related(ctx),
        failing=failing,
        summary="",
        result_row=result,
    )
    explanation.summary = _summary(explanation, policy)
    snapshot = json.dumps(
        explanation.input_snapshot(),
        sort_keys=True,
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    )
    explanation.input_snapshot_hash = hashlib.sha256(snapshot.encode()).hexdigest()
    return explanation


def _used_fields(policy: CompiledPolicy) -> tuple[set[str], dict[str, set[str]]]:
    fields: set[str] = set()
    related: dict[str, set[str]] = {}
    usages = [s.usage for s in policy.symbols.values()] + [t.usage for t in policy.tables.values()]
    for usage in usages:
        fields |= usage.fields
        for rel, names in usage.related.items():
            related.setdefault(rel, set()).update(names)
    return fields, related


def _inputs(policy: CompiledPolicy, prepared: Any) -> list[InputValue]:
    row = prepared.row(0, named=True)
    fields, _ = _used_fields(policy)
    base = policy.view.base
    out = []
    for name in sorted(fields):
        spec = policy.view.fields[name]
        value = row.get(spec.column)
        out.append(
            InputValue(
                name,
                spec.zh,
                jsonable(value, spec.type),
                show(value, spec.type),
                base,
                row.get("source_dept"),
                department_zh(row.get("source_dept")),
                jsonable(row.get("as_of")),
            )
        )
    return out


def _derived(policy: CompiledPolicy, prepared: Any) -> list[InputValue]:
    row = prepared.row(0, named=True)
    out = []
    for symbol in policy.definitions():
        value = row.get(symbol_column(symbol.name))
        fmt = symbol.format.value if symbol.format else None
        out.append(
            InputValue(
                symbol.name,
                symbol.label,
                jsonable(value, symbol.type),
                show(value, symbol.type, fmt),
                "derived",
            )
        )
    for table in policy.tables.values():
        for name, type_, label in table.outputs:
            value = row.get(symbol_column(f"{table.name}.{name}"))
            out.append(
                InputValue(
                    f"{table.name}.{name}",
                    label,
                    jsonable(value, type_),
                    show(value, type_),
                    "derived",
                )
            )
    return out


def _related(ctx: HintContext) -> list[RelatedRecords]:
    policy = ctx.policy
    _, used = _used_fields(policy)
    out = []
    for rel_name, names in sorted(used.items()):
        relation = policy.view.relations[rel_name]
        own = ctx.frame.get_column(relation.subject_column).item()
        frame = ctx.data.frame(relation.dataset)
        records = []
        if own is not None:
            for row in frame.to_dicts():
                if not any(row.get(c) == own for c in relation.related_columns):
                    continue
                record = {
                    n: jsonable(row.get(relation.fields[n].column), relation.fields[n].type)
                    for n in sorted(names)
                }
                record["source_dept"] = row.get("source_dept")
                record["as_of"] = jsonable(row.get("as_of"))
                records.append(record)
        out.append(RelatedRecords(rel_name, relation.zh, records))
    return out


def _summary(e: Explanation, policy: CompiledPolicy) -> str:
    title = policy.document.title
    if e.eligible:
        amount = f",金额 {yuan(e.amount_fen)}" if e.amount_fen is not None else ""
        tier = f",档次 {e.tier}" if e.tier else ""
        return f"符合{title}条件{tier}{amount}。"
    passed = sum(1 for c in e.conditions if c.passed)
    reasons = ";".join(e.failing) if e.failing else "未满足全部条件"
    return f"暂不符合{title}条件({passed}/{len(e.conditions)} 项满足):{reasons}。"
