"""Checked expression trees → Polars expressions. One compiler for every use: population
evaluation, single-subject evaluation and the sub-expressions an explanation quotes.

Names compile to columns (base fields, named symbols ``~sym.NAME``, aggregate columns
``~agg.N``), parameters and ``as_of`` to typed literals of the evaluation date, aggregates to the
per-relation ``group_by`` expressions that ``evaluator`` joins back onto the subject frame.

Null semantics (the same on every path): a missing value makes comparisons and arithmetic
missing; ``and``/``or`` are three-valued (false and missing = false); ``if`` with a missing
condition is missing; division by zero is missing; a condition that is missing does not hold.
Decimals compare at nine decimal places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import polars as pl

from eligibility import builtins
from eligibility.expr.checker import AsOfRef, FieldRef, NamedRef, ParamRef
from eligibility.expr.constants import ConstValue, constant_value, period_index
from eligibility.expr.errors import ExprError
from eligibility.expr.nodes import (
    Aggregate,
    Binary,
    Call,
    IfElse,
    ListLit,
    Literal,
    Membership,
    Name,
    Node,
    Unary,
)
from eligibility.expr.types import Kind, Type
from eligibility.views import polars_dtype

F64 = pl.Float64


def symbol_column(name: str) -> str:
    return f"~sym.{name}"


def literal(value: object, type_: Type) -> pl.Expr:
    if type_.kind is Kind.DECIMAL and value is not None:
        value = float(value)  # type: ignore[arg-type]
    return pl.lit(value, dtype=polars_dtype(type_))


@dataclass
class Bindings:
    """What a compiled expression needs besides the data: the date and parameter values."""

    as_of: date
    params: dict[str, ConstValue]
    param_types: dict[str, Type]
    aggregate_columns: dict[int, str] = field(default_factory=dict)  # id(Aggregate) → column
    birth_column: str | None = None


class ExprCompiler:
    def __init__(self, bindings: Bindings) -> None:
        self.b = bindings

    def compile(self, node: Node) -> pl.Expr:
        method = getattr(self, "_" + type(node).__name__.lower())
        result: pl.Expr = method(node)
        return result

    def numeric(self, node: Node, as_float: bool) -> pl.Expr:
        expr = self.compile(node)
        return expr.cast(F64) if as_float else expr

    # -- leaves --------------------------------------------------------------------------------
    def _literal(self, node: Literal) -> pl.Expr:
        assert node.type is not None
        return literal(node.value, node.type)

    def _listlit(self, node: ListLit) -> pl.Expr:
        raise ExprError("a list is only allowed after 'in'", node.pos)

    def _name(self, node: Name) -> pl.Expr:
        ref = node.ref
        if isinstance(ref, FieldRef):
            return pl.col(ref.field.column)
        if isinstance(ref, NamedRef):
            return pl.col(symbol_column(ref.name))
        if isinstance(ref, ParamRef):
            return literal(self.b.params.get(ref.name), self.b.param_types[ref.name])
        if isinstance(ref, AsOfRef):
            return pl.lit(self.b.as_of, dtype=pl.Date)
        raise ExprError(f"unresolved name {node.dotted!r}", node.pos)

    def _aggregate(self, node: Aggregate) -> pl.Expr:
        return pl.col(self.b.aggregate_columns[id(node)])

    # -- operators -----------------------------------------------------------------------------
    def _unary(self, node: Unary) -> pl.Expr:
        assert node.operand is not None
        operand = self.compile(node.operand)
        return ~operand if node.op == "not" else -operand

    def _binary(self, node: Binary) -> pl.Expr:
        assert node.left is not None and node.right is not None and node.type is not None
        op, lt, rt = node.op, node.left.type, node.right.type
        assert lt is not None and rt is not None
        if op in ("and", "or"):
            left, right = self.compile(node.left), self.compile(node.right)
            return left & right if op == "and" else left | right
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return self._compare(node, lt, rt)
        floaty = Kind.DECIMAL in (lt.kind, rt.kind, node.type.kind) or (
            op == "/" and node.type.kind is not Kind.INT
        )
        left, right = self.numeric(node.left, floaty), self.numeric(node.right, floaty)
        if op == "-" and lt.kind is Kind.DATE:
            return right.cast(pl.Int64).neg() + left.cast(pl.Int64)
        if op == "+":
            result = left + right
        elif op == "-":
            result = left - right
        elif op == "*":
            result = left * right
        else:
            result = pl.when(right != 0).then(left / right)
        if node.type.kind is Kind.MONEY and floaty:
            return builtins.round_decimal(result)
        return result

    def _compare(self, node: Binary, lt: Type, rt: Type) -> pl.Expr:
        assert node.left is not None and node.right is not None
        decimal = Kind.DECIMAL in (lt.kind, rt.kind)
        left, right = self.numeric(node.left, decimal), self.numeric(node.right, decimal)
        if decimal:
            left, right = left.round(builtins.DECIMAL_PLACES), right.round(builtins.DECIMAL_PLACES)
        ops = {
            "==": left.eq,
            "!=": left.ne,
            "<": left.lt,
            "<=": left.le,
            ">": left.gt,
            ">=": left.ge,
        }
        return ops[node.op](right)

    def _membership(self, node: Membership) -> pl.Expr:
        assert node.value is not None and node.options is not None and node.value.type
        value = self.compile(node.value)
        if node.options.type is not None and node.options.type.kind is Kind.PERIODS:
            low, high = self.period_range(node.options)
            found = (value >= low) & (value <= high)
        else:
            assert isinstance(node.options, ListLit)
            items = [self.constant(item, node.value.type) for item in node.options.items]
            dtype = polars_dtype(node.value.type)
            found = pl.when(value.is_not_null()).then(
                value.is_in(pl.lit(pl.Series(items, dtype=dtype)).implode())
            )
        return ~found if node.negated else found

    def constant(self, node: Node, as_type: Type) -> object:
        value = constant_value(node)
        if as_type.kind is Kind.DECIMAL and isinstance(value, int | Decimal):
            return float(value)
        return value

    def _ifelse(self, node: IfElse) -> pl.Expr:
        assert node.condition and node.then and node.otherwise and node.type
        condition = self.compile(node.condition)
        then, otherwise = (
            self.cast_to(node.then, node.type),
            self.cast_to(node.otherwise, node.type),
        )
        return pl.when(condition).then(then).when(~condition).then(otherwise)

    def cast_to(self, node: Node, type_: Type) -> pl.Expr:
        expr = self.compile(node)
        return expr.cast(F64) if type_.kind is Kind.DECIMAL else expr

    # -- calls ---------------------------------------------------------------------------------
    def period_range(self, node: Node) -> tuple[pl.Expr, pl.Expr]:
        assert isinstance(node, Call)
        if node.func == "last_months":
            current = builtins.period_of(self.compile(node.args[0]))
            count = self.compile(node.args[1])
            return current - count, current - 1
        return self.compile(node.args[0]), self.compile(node.args[1])

    def _call(self, node: Call) -> pl.Expr:
        assert node.type is not None
        func = node.func
        if func in ("date", "period", "yuan") and len(node.args) == 1:
            return literal(constant_value(node), node.type)
        if func in ("last_months", "periods_between"):
            raise ExprError(f"{func}() is only allowed after 'in'", node.pos)
        if func in ("greatest", "least", "coalesce"):
            args = [self.cast_to(arg, node.type) for arg in node.args]
            if func == "coalesce":
                return pl.coalesce(args)
            return pl.max_horizontal(args) if func == "greatest" else pl.min_horizontal(args)
        fast = self._constant_fast_path(node)
        if fast is not None:
            return fast
        args = [self.compile(arg) for arg in node.args]
        if func == "date":
            return builtins.safe_date(args[0], args[1], args[2])
        if func == "period":
            return pl.when(args[1].is_between(1, 12)).then(args[0] * 12 + args[1] - 1)
        types = [arg.type for arg in node.args]
        birth = pl.col(self.b.birth_column) if self.b.birth_column else None
        return builtins.IMPLEMENTATIONS[func](args, types, birth)  # type: ignore[arg-type]

    def constant_int(self, node: Node) -> int | None:
        """The value of an integer argument known when compiling (literal or parameter)."""
        if isinstance(node, Name) and isinstance(node.ref, ParamRef):
            value = self.b.params.get(node.ref.name)
        else:
            try:
                value = constant_value(node)
            except ExprError:
                return None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def _constant_fast_path(self, node: Call) -> pl.Expr | None:
        func = node.func
        if func not in ("date_of_age", "birthday", "add_months", "add_years", "add_days"):
            return None
        n = self.constant_int(node.args[-1])
        if n is None:
            return None
        months = n * 12 if func in ("date_of_age", "birthday", "add_years") else n
        if abs(months) > builtins.MAX_CONSTANT_MONTHS or abs(n) > builtins.MAX_CONSTANT_DAYS:
            return None
        if func == "date_of_age":
            if self.b.birth_column is None:
                return None
            return builtins.birthday_constant(pl.col(self.b.birth_column), n)
        d = self.compile(node.args[0])
        if func == "birthday":
            return builtins.birthday_constant(d, n)
        if func == "add_days":
            return builtins.add_days_constant(d, n)
        return builtins.add_months_constant(d, months)

    # -- aggregates (evaluated inside the related frame's group_by) ----------------------------
    def aggregate(self, node: Aggregate, column: str) -> tuple[pl.Expr, object]:
        """The ``group_by().agg`` expression of an aggregate and the value for no related rows."""
        where = self.compile(node.where).fill_null(False) if node.where is not None else None
        if node.func in ("exists", "count"):
            if where is None:
                expr = pl.len() > 0 if node.func == "exists" else pl.len().cast(pl.Int64)
            else:
                expr = where.any() if node.func == "exists" else where.sum().cast(pl.Int64)
            return expr.alias(column), (False if node.func == "exists" else 0)
        assert node.field_name is not None and node.type is not None
        values = pl.col(node.field_name)
        if where is not None:
            values = values.filter(where)
        if node.func == "sum":
            return values.sum().cast(polars_dtype(node.type)).alias(column), 0
        if node.func == "avg":
            mean = values.mean()
            if node.type.kind is Kind.MONEY:
                mean = builtins.round_decimal(mean)
            return mean.alias(column), None
        extreme = values.min() if node.func == "min" else values.max()
        return extreme.alias(column), None


__all__ = ["Bindings", "ExprCompiler", "literal", "period_index", "symbol_column"]
