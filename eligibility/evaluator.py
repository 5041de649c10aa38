"""Evaluation: one plan per (policy, date), run over all subjects or over one subject's rows.

:func:`build_plan` compiles the policy's checked expressions once into Polars: aggregates over
related datasets become per-subject columns (filter → group_by → left join), named expressions
become columns in dependency order, and the outputs are selected. :func:`run_plan` executes a
plan on any :class:`~eligibility.frames.SubjectData`. :func:`evaluate_population` runs it on
every subject; :func:`evaluate_subject` runs *the same plan* on the rows of one subject
(``frames.restrict``), which is what ``explain`` uses -- there is no second interpreter.

Result rows come in the order of the base frame (every join keeps the left order; the
repository reads base tables ordered by key), so the same data, policy version and date always
give the same frame -- without paying for a sort of a million keys on every evaluation.
:class:`EvaluationRun` is what a decision record needs besides the row: policy id, version
hash, date, the parameter values in force and the engine version. :func:`evaluate_many` runs
several policies of one kind together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from app import ENGINE_VERSION
from eligibility import builtins
from eligibility.compiler import Bindings, ExprCompiler, symbol_column
from eligibility.expr.constants import ConstValue
from eligibility.expr.nodes import Aggregate
from eligibility.expr.types import Kind
from eligibility.frames import SubjectData, restrict
from eligibility.policy.compile import CompiledPolicy, references
from eligibility.policy.table_compile import table_outputs

KEY = "subject_key"


@dataclass(frozen=True)
class EvaluationRun:
    policy_id: str
    policy_version: str
    subject_kind: str
    as_of: date
    parameters: dict[str, Any]
    engine_version: str = ENGINE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "subject_kind": self.subject_kind,
            "as_of": self.as_of.isoformat(),
            "parameters": {k: _jsonable(v) for k, v in self.parameters.items()},
            "engine_version": self.engine_version,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


@dataclass
class RelationAggregates:
    relation: str
    exprs: list[pl.Expr] = field(default_factory=list)
    fills: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    policy: CompiledPolicy
    as_of: date
    compiler: ExprCompiler
    aggregates: list[RelationAggregates]
    stages: list[list[pl.Expr]]
    outputs: list[pl.Expr]
    run: EvaluationRun


def parameter_values(policy: CompiledPolicy, as_of: date) -> dict[str, ConstValue | None]:
    return {name: p.value_on(as_of) for name, p in policy.params.items()}


def run_metadata(policy: CompiledPolicy, as_of: date) -> EvaluationRun:
    return EvaluationRun(
        policy.id, policy.version, policy.view.kind, as_of, dict(parameter_values(policy, as_of))
    )


def in_force(policy: CompiledPolicy, as_of: date) -> bool:
    effective = policy.document.effective
    return effective.from_ <= as_of and (effective.to is None or as_of <= effective.to)


def build_plan(policy: CompiledPolicy, as_of: date) -> Plan:
    params = {k: v for k, v in parameter_values(policy, as_of).items() if v is not None}
    bindings = Bindings(
        as_of=as_of,
        params=params,
        param_types={name: p.type for name, p in policy.params.items()},
        birth_column="birth_date" if "birth_date" in policy.view.fields else None,
    )
    compiler = ExprCompiler(bindings)
    aggregates = _aggregate_columns(policy, compiler)
    return Plan(
        policy,
        as_of,
        compiler,
        aggregates,
        _stages(policy, compiler),
        _outputs(policy),
        run_metadata(policy, as_of),
    )


def _aggregate_columns(policy: CompiledPolicy, compiler: ExprCompiler) -> list[RelationAggregates]:
    groups: dict[str, RelationAggregates] = {}
    seen: set[int] = set()
    for node in policy.aggregates():
        if id(node) in seen:
            continue
        seen.add(id(node))
        column = f"~agg.{len(seen)}"
        compiler.b.aggregate_columns[id(node)] = column
        group = groups.setdefault(node.relation_name, RelationAggregates(node.relation_name))
        expr, fill = compiler.aggregate(node, column)
        group.exprs.append(expr)
        group.fills[column] = fill
    return list(groups.values())


def _stages(policy: CompiledPolicy, compiler: ExprCompiler) -> list[list[pl.Expr]]:
    level: dict[str, int] = {}
    stages: list[list[pl.Expr]] = []
    known = set(policy.symbols) | set(policy.tables)
    for name in policy.order:
        if name in policy.tables:
            table = policy.tables[name]
            nodes = [i.node for i in table.inputs] + [n for row in table.row_outputs for n in row]
            nodes += table.default or []
        else:
            nodes = [policy.symbols[name].node]
        deps = {
            r if r in policy.symbols else r.split(".", 1)[0] for n in nodes for r in references(n)
        }
        depth = 1 + max((level[d] for d in deps & known if d in level), default=-1)
        level[name] = depth
        while len(stages) <= depth:
            stages.append([])
        if name in policy.tables:
            for out_name, expr in table_outputs(policy.tables[name], compiler).items():
                stages[depth].append(expr.alias(symbol_column(f"{name}.{out_name}")))
        else:
            node = policy.symbols[name].node
            assert node is not None
            stages[depth].append(compiler.compile(node).alias(symbol_column(name)))
    return stages


def _outputs(policy: CompiledPolicy) -> list[pl.Expr]:
    v = policy.view
    conditions = policy.conditions()
    outputs = [pl.col(v.key).alias(KEY)]
    outputs += [pl.col(symbol_column(c.name)).alias(c.name) for c in conditions]
    if "eligible:" in policy.symbols:
        holds = pl.col(symbol_column("eligible:"))
    else:
        holds = pl.lit(True)
        for c in conditions:
            holds = holds & pl.col(symbol_column(c.name))
    eligible = (pl.col("~in_force") & holds).fill_null(False)
    outputs.append(eligible.alias("eligible"))
    tier = policy.symbols.get("benefit:tier")
    outputs.append(
        (pl.when(eligible).then(pl.col(symbol_column("benefit:tier"))) if tier else pl.lit(None))
        .cast(pl.String)
        .alias("tier")
    )
    amount = policy.symbols.get("benefit:amount")
    outputs.append(
        (
            pl.when(eligible).then(pl.col(symbol_column("benefit:amount")))
            if amount
            else pl.lit(None)
        )
        .cast(pl.Int64)
        .alias("amount_fen")
    )
    start = policy.symbols.get("benefit:start")
    if start is not None and start.type is not None:
        first = pl.col(symbol_column("benefit:start"))
        first = (
            first.dt.month_start() if start.type.kind is Kind.DATE else builtins.first_day(first)
        )
        outputs.append(pl.when(eligible).then(first).alias("start_month"))
    for end in policy.document.benefit.end_conditions:
        outputs.append(
            pl.col(symbol_column(f"end:{end.name}")).fill_null(False).alias(f"ended.{end.name}")
        )
        if end.end_date is not None:
            outputs.append(
                pl.col(symbol_column(f"end_date:{end.name}")).alias(f"end_date.{end.name}")
            )
    for i in range(len(policy.document.triggers)):
        if f"trigger:{i}" in policy.symbols:
            outputs.append(pl.col(symbol_column(f"trigger:{i}")).alias(f"trigger_date.{i}"))
    if policy.document.subject.payee:
        outputs.append(
            pl.coalesce([pl.col(c) for c in policy.document.subject.payee]).alias("payee_key")
        )
    return outputs


def prepare(plan: Plan, data: SubjectData) -> pl.LazyFrame:
    """The subject frame with every aggregate and named column computed (outputs not selected).

    Aggregates of all relations joined through the same subject column are merged on the
    (small) per-subject side first, so the subject frame is joined once per join column."""
    if data.kind != plan.policy.view.kind:
        raise ValueError(
            f"policy {plan.policy.id} is about {plan.policy.view.kind}s, data about {data.kind}s"
        )
    v = plan.policy.view
    frame = data.base.lazy().with_columns(
        pl.lit(in_force(plan.policy, plan.as_of)).alias("~in_force")
    )
    by_subject_column: dict[str, list[RelationAggregates]] = {}
    for group in plan.aggregates:
        by_subject_column.setdefault(v.relations[group.relation].subject_column, []).append(group)
    for subject_column, groups in by_subject_column.items():
        merged: pl.LazyFrame | None = None
        for group in groups:
            rel = v.relations[group.relation]
            related = data.frame(rel.dataset).lazy()
            parts = [
                related.filter(pl.col(c).is_not_null()).with_columns(pl.col(c).alias("~key"))
                for c in rel.related_columns
            ]
            rows = parts[0] if len(parts) == 1 else pl.concat(parts)
            per_subject = rows.group_by("~key").agg(group.exprs)
            merged = (
                per_subject
                if merged is None
                else merged.join(per_subject, on="~key", how="full", coalesce=True)
            )
        assert merged is not None
        frame = frame.join(
            merged, left_on=subject_column, right_on="~key", how="left", maintain_order="left"
        )
        fills = [
            pl.col(column).fill_null(fill)
            for group in groups
            for column, fill in group.fills.items()
            if fill is not None
        ]
        if fills:
            frame = frame.with_columns(fills)
    for stage in plan.stages:
        frame = frame.with_columns(stage)
    return frame


DECISION_COLUMNS = (KEY, "eligible", "tier", "amount_fen")


def run_plan(plan: Plan, data: SubjectData, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """Run the plan; ``columns`` keeps only those outputs (the rest is then not computed)."""
    outputs = plan.outputs
    if columns is not None:
        wanted = {KEY, *columns}
        outputs = [o for o in outputs if o.meta.output_name() in wanted]
    return prepare(plan, data).select(outputs).collect()


def evaluate_many(
    policies: list[CompiledPolicy], data: SubjectData, as_of: date
) -> dict[str, pl.DataFrame]:
    """Several policies of one subject kind over the same data in one parallel Polars run
    (``collect_all``: scans and shared sub-plans are computed once). Each frame equals what
    :func:`evaluate_population` gives for that policy."""
    plans = [build_plan(policy, as_of) for policy in policies]
    frames = pl.collect_all([prepare(plan, data).select(plan.outputs) for plan in plans])
    return {policy.id: frame for policy, frame in zip(policies, frames, strict=True)}


def evaluate_population(
    policy: CompiledPolicy, data: SubjectData, as_of: date, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """Every subject at once: subject_key, each condition, eligible, tier, amount_fen, and the
    grant details (start_month, ended.*, end_date.*, trigger_date.*, payee_key). ``columns``
    (e.g. :data:`DECISION_COLUMNS`) keeps only those, and Polars then skips the rest."""
    return run_plan(build_plan(policy, as_of), data, columns)


def evaluate_subject(
    policy: CompiledPolicy, data: SubjectData, subject_key: str, as_of: date
) -> dict[str, Any] | None:
    """The same plan on one subject's rows only; ``None`` if the subject is not in the data."""
    rows = run_plan(build_plan(policy, as_of), restrict(data, [subject_key])).to_dicts()
    return rows[0] if rows else None


def aggregate_nodes(plan: Plan) -> dict[str, Aggregate]:
    """Aggregate column → node, for explanations."""
    by_id = {id(node): node for node in plan.policy.aggregates()}
    return {column: by_id[node_id] for node_id, column in plan.compiler.b.aggregate_columns.items()}
