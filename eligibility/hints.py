"""Why a condition failed and, where it can be computed, what would make it pass -- in plain
Chinese ("还差 3 个月满 70 周岁", "裁员率 6.1% 高于 5.5%").

Hints walk the condition's checked tree and evaluate its sub-expressions with the same compiler
on the subject's prepared frame, so every number quoted is the number the decision used.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from eligibility import builtins
from eligibility.display import department_zh, show
from eligibility.evaluator import Plan
from eligibility.expr.checker import AsOfRef, FieldRef, NamedRef, ParamRef
from eligibility.expr.constants import constant_value
from eligibility.expr.errors import ExprError
from eligibility.expr.nodes import Aggregate, Binary, Call, Literal, Membership, Name, Node, Unary
from eligibility.expr.types import Kind
from eligibility.frames import SubjectData

FAILED_AS = {"<=": "高于", "<": "不低于", ">=": "低于", ">": "不高于", "==": "不等于", "!=": "等于"}
AGG_ZH = {"count": "记录数", "sum": "合计", "min": "最小值", "max": "最大值", "avg": "平均值"}


class HintContext:
    def __init__(self, plan: Plan, frame: pl.DataFrame, data: SubjectData) -> None:
        self.plan = plan
        self.frame = frame  # the subject's prepared row
        self.data = data  # the subject's rows only
        self.policy = plan.policy

    def related_rows(self, agg: Aggregate) -> list[dict[str, Any]]:
        """The subject's related records an aggregate counts (its where clause applied)."""
        relation = self.policy.view.relations[agg.relation_name]
        own = self.frame.get_column(relation.subject_column).item()
        if own is None:
            return []
        test = pl.lit(False)
        for column in relation.related_columns:
            test = test | (pl.col(column) == own).fill_null(False)
        rows = self.data.frame(relation.dataset).filter(test)
        if agg.where is not None:
            rows = rows.filter(self.plan.compiler.compile(agg.where).fill_null(False))
        return rows.to_dicts()

    def value(self, node: Node) -> Any:
        try:
            expr = self.plan.compiler.compile(node)
            return self.frame.select(expr.alias("v")).item()
        except (ExprError, pl.exceptions.PolarsError):
            return None

    def expr_value(self, expr: pl.Expr) -> Any:
        return self.frame.select(expr.alias("v")).item()

    def symbol_node(self, node: Node) -> Node | None:
        if isinstance(node, Name) and isinstance(node.ref, NamedRef):
            symbol = self.policy.symbols.get(node.ref.name)
            return symbol.node if symbol is not None else None
        return None

    def fmt(self, node: Node) -> str | None:
        if isinstance(node, Name) and isinstance(node.ref, NamedRef):
            symbol = self.policy.symbols.get(node.ref.name)
            return symbol.format.value if symbol is not None and symbol.format else None
        return None

    def label(self, node: Node, text: str) -> str:
        ref = getattr(node, "ref", None)
        if isinstance(ref, FieldRef):
            return ref.field.zh
        if isinstance(ref, NamedRef):
            symbol = self.policy.symbols.get(ref.name)
            if symbol is not None:
                return symbol.label or ref.name
            table, _, output = ref.name.partition(".")
            for name, _type, label in (
                self.policy.tables[table].outputs if table in self.policy.tables else []
            ):
                if name == output:
                    return label
        if isinstance(ref, ParamRef):
            return self.policy.params[ref.name].description
        if isinstance(ref, AsOfRef):
            return "基准日"
        if isinstance(node, Call) and node.func == "age_on":
            return "年龄"
        if isinstance(node, Aggregate):
            relation = self.policy.view.relations[node.relation_name]
            if node.func == "count":
                return f"{relation.zh}{AGG_ZH['count']}"
            field = relation.fields[node.field_name] if node.field_name else None
            return f"{relation.zh}{field.zh if field else ''}{AGG_ZH.get(node.func, '')}"
        return text[node.start : node.end].strip() or "该值"


def hints(ctx: HintContext, node: Node | None, text: str) -> list[str]:
    """Plain-Chinese reasons ``node`` (a bool expression) is not true."""
    if node is None:
        return []
    inner = ctx.symbol_node(node)
    if inner is not None and node.type is not None and node.type.kind is Kind.BOOL:
        assert isinstance(node, Name) and isinstance(node.ref, NamedRef)
        symbol = ctx.policy.symbols[node.ref.name]
        return hints(ctx, inner, symbol.text) or [f"不满足:{symbol.description or symbol.label}"]
    if isinstance(node, Binary) and node.op in ("and", "or"):
        assert node.left is not None and node.right is not None
        failing = [child for child in (node.left, node.right) if ctx.value(child) is not True]
        if node.op == "or" and len(failing) < 2:
            return []
        out: list[str] = []
        for child in failing:
            out.extend(hints(ctx, child, text))
        return out
    if isinstance(node, Binary):
        return _comparison(ctx, node, text)
    if isinstance(node, Membership):
        return _membership(ctx, node, text)
    if isinstance(node, Unary) and node.op == "not" and isinstance(node.operand, Aggregate):
        return _records_found(ctx, node.operand, text)
    if isinstance(node, Aggregate) and node.func == "exists":
        relation = ctx.policy.view.relations[node.relation_name]
        qualifier = "符合条件的" if node.where is not None else ""
        noun = relation.zh if relation.zh.endswith("记录") else f"{relation.zh}记录"
        return [f"未找到{qualifier}{noun}"]
    return []


def _age_hint(ctx: HintContext, age_call: Call, target: int, text: str) -> list[str]:
    on = ctx.value(age_call.args[0])
    birth = ctx.expr_value(builtins.birthday(pl.col("birth_date"), pl.lit(target, dtype=pl.Int64)))
    if not isinstance(on, date) or not isinstance(birth, date):
        return [f"年龄缺少数据,无法判断是否满 {target} 周岁"]
    months = ctx.expr_value(builtins.months_between(pl.lit(on), pl.lit(birth)))
    after = ctx.expr_value(builtins.add_months(pl.lit(on), pl.lit(months, dtype=pl.Int64)))
    days = (birth - after).days if isinstance(after, date) else 0
    parts = ([f"{months} 个月"] if months else []) + ([f"{days} 天"] if days else [])
    return [
        f"还差 {' '.join(parts) or '0 天'}满 {target} 周岁({birth.isoformat()} 年满 {target} 周岁)"
    ]


def _as_age_call(ctx: HintContext, node: Node) -> Call | None:
    inner = ctx.symbol_node(node)
    node = inner if inner is not None else node
    return node if isinstance(node, Call) and node.func == "age_on" else None


def _comparison(ctx: HintContext, node: Binary, text: str) -> list[str]:
    assert node.left is not None and node.right is not None
    left, right = ctx.value(node.left), ctx.value(node.right)
    age_call = _as_age_call(ctx, node.left)
    if (
        age_call is not None
        and node.op in (">=", ">")
        and isinstance(right, int)
        and left is not None
    ):
        return _age_hint(ctx, age_call, right + (1 if node.op == ">" else 0), text)
    fmt = ctx.fmt(node.left) or ctx.fmt(node.right)
    label = ctx.label(node.left, text)
    if left is None or right is None:
        missing = label if left is None else ctx.label(node.right, text)
        return [f"{missing}缺少数据,无法判断"]
    shown_left = show(left, node.left.type, fmt)
    right_type = node.left.type if isinstance(node.right, Literal) else node.right.type
    shown_right = show(right, right_type, fmt)
    right_label = ctx.label(node.right, text)
    if node.left.type is not None and node.left.type.is_textual and node.op in ("==", "!="):
        wanted = f"要求为{shown_right}" if node.op == "==" else f"不得为{shown_right}"
        return [f"{label}为{shown_left},{wanted}"]
    plain_right = isinstance(node.right, Literal | Unary) or (
        isinstance(node.right, Name) and isinstance(node.right.ref, ParamRef)
    )
    if plain_right or right_label == shown_right:
        sentence = f"{label} {shown_left} {FAILED_AS[node.op]} {shown_right}"
    else:
        sentence = f"{label} {shown_left} {FAILED_AS[node.op]} {right_label} {shown_right}"
    kind = node.left.type.kind if node.left.type else None
    if (
        node.op in (">=", ">")
        and kind in (Kind.INT, Kind.MONEY)
        and isinstance(left, int)
        and isinstance(right, int)
    ):
        gap = right - left + (1 if node.op == ">" else 0)
        sentence += f"(还差 {show(gap, node.left.type, fmt)})"
    return [sentence]


def _membership(ctx: HintContext, node: Membership, text: str) -> list[str]:
    assert node.value is not None and node.options is not None
    value = ctx.value(node.value)
    label = ctx.label(node.value, text)
    if value is None:
        return [f"{label}缺少数据,无法判断"]
    shown = show(value, node.value.type)
    if node.options.type is not None and node.options.type.kind is Kind.PERIODS:
        return [f"{label} {shown} 不在 {text[node.options.start : node.options.end]} 之内"]
    try:
        items = [show(constant_value(item), node.value.type) for item in node.options.children()]
    except ExprError:
        items = []
    if node.negated:
        return [f"{label}为{shown},属于排除范围({'、'.join(items)})"]
    return [f"{label}为{shown},不属于{'、'.join(items)}"]


def _records_found(ctx: HintContext, agg: Aggregate, text: str) -> list[str]:
    if ctx.value(agg) is not True:
        return []
    relation = ctx.policy.view.relations[agg.relation_name]
    rows = ctx.related_rows(agg)
    shown = [f for f in relation.fields.values() if f.type.kind in (Kind.DATE, Kind.ENUM)][:3]
    details = []
    for row in rows[:3]:
        parts = [f"{f.zh} {show(row.get(f.column), f.type)}" for f in shown]
        parts.append(f"来源 {department_zh(row.get('source_dept'))}")
        details.append(",".join(parts))
    suffix = ":" + ";".join(details) if details else ""
    noun = relation.zh if relation.zh.endswith("记录") else f"{relation.zh}记录"
    return [f"存在{noun}{suffix}"]
