"""Type checker: resolves every name against the evaluation view (data catalog), parameters and
named expressions of the policy, and assigns a type to every node.

An unknown field, relation, parameter or function, a wrong argument, a type mismatch or an enum
value the catalog does not allow is an :class:`ExprError` at the offending node's position. The
result is the same tree with ``type`` set on every node and ``ref`` on every name, plus the
dependencies the compiler and the explanation need. No value is computed here except constant
arguments (``date("2025-01-01")``), which are validated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from eligibility.expr import types as t
from eligibility.expr.errors import ExprError
from eligibility.expr.functions import FUNCTION_ALIASES, FUNCTIONS
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
from eligibility.views import Relation, SubjectView, ViewField

AS_OF_NAMES = frozenset({"as_of", "基准日"})


@dataclass(frozen=True)
class FieldRef:
    field: ViewField
    relation: str | None = None  # set inside an aggregate's where / field


@dataclass(frozen=True)
class ParamRef:
    name: str


@dataclass(frozen=True)
class NamedRef:
    name: str  # a definition, a condition, or "table.output"


@dataclass(frozen=True)
class AsOfRef:
    pass


@dataclass
class Usage:
    """What a checked expression reads: the compiler orders symbols by it, explain shows it."""

    named: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)  # base fields
    related: dict[str, set[str]] = field(default_factory=dict)  # relation → fields
    aggregates: list[Aggregate] = field(default_factory=list)


@dataclass
class Scope:
    view: SubjectView
    params: dict[str, Type] = field(default_factory=dict)
    named: dict[str, Type] = field(default_factory=dict)


class Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.usage = Usage()
        self.relation: Relation | None = None

    def check(self, node: Node, expected: Type | None = None) -> Type:
        result = self._check(node)
        if expected is not None and t.unify(result, expected) != expected:
            raise ExprError(f"expected {expected}, but this is {result}", node.pos)
        return result

    def _check(self, node: Node) -> Type:
        method = getattr(self, "_" + type(node).__name__.lower())
        result: Type = method(node)
        node.type = result
        return result

    # -- leaves --------------------------------------------------------------------------------
    def _literal(self, node: Literal) -> Type:
        value = node.value
        if isinstance(value, bool):
            return t.BOOL
        if isinstance(value, int):
            return t.INT
        if isinstance(value, Decimal):
            return t.DECIMAL
        if isinstance(value, date):
            return t.DATE
        return t.STRING

    def _name(self, node: Name) -> Type:
        parts = node.parts
        head = parts[0]
        if len(parts) == 1 and head in AS_OF_NAMES:
            node.ref = AsOfRef()
            return t.DATE
        if head in ("param", "参数"):
            if len(parts) != 2:
                raise ExprError("write a parameter as param.NAME", node.pos)
            if parts[1] not in self.scope.params:
                raise ExprError(
                    f"unknown parameter {parts[1]!r}; declared: {_listing(self.scope.params)}",
                    node.pos,
                )
            self.usage.params.add(parts[1])
            node.ref = ParamRef(parts[1])
            return self.scope.params[parts[1]]
        dotted = node.dotted
        if self.relation is None and dotted in self.scope.named:
            self.usage.named.add(dotted)
            node.ref = NamedRef(dotted)
            return self.scope.named[dotted]
        if len(parts) > 1:
            raise ExprError(
                f"{dotted!r} is not a parameter, a decision-table output or a field; "
                "fields of related datasets are read through exists/count/sum/min/max/avg",
                node.pos,
            )
        return self._field(node, head)

    def _field(self, node: Name, name: str) -> Type:
        view = self.scope.view
        if self.relation is not None:
            rel = self.relation
            spec = rel.fields.get(name) or rel.fields.get(view.field_aliases.get(name, ""))
            if spec is None:
                raise ExprError(
                    f"{rel.name} has no field {name!r}; fields: {_listing(rel.fields)}", node.pos
                )
            self.usage.related.setdefault(rel.name, set()).add(spec.name)
            node.ref = FieldRef(spec, rel.name)
            return spec.type
        resolved = view.field_aliases.get(name, name)
        spec = view.fields.get(resolved)
        if spec is None:
            if view.relation_aliases.get(name, name) in view.relations:
                raise ExprError(
                    f"{name!r} is a related dataset: use exists({name} where ...), count(...) or "
                    f"sum({name}.FIELD ...)",
                    node.pos,
                )
            raise ExprError(
                f"unknown name {name!r}; {view.kind} fields: {_listing(view.fields)}", node.pos
            )
        self.usage.fields.add(spec.name)
        node.ref = FieldRef(spec)
        return spec.type

    # -- operators -----------------------------------------------------------------------------
    def _unary(self, node: Unary) -> Type:
        assert node.operand is not None
        operand = self._check(node.operand)
        if node.op == "not":
            if operand != t.BOOL:
                raise ExprError(f"'not' needs a bool, this is {operand}", node.operand.pos)
            return t.BOOL
        if not operand.is_numeric:
            raise ExprError(f"'-' needs a number, this is {operand}", node.operand.pos)
        return operand

    def _binary(self, node: Binary) -> Type:
        assert node.left is not None and node.right is not None
        left, right = self._check(node.left), self._check(node.right)
        op = node.op
        if op in ("and", "or"):
            for side, type_ in ((node.left, left), (node.right, right)):
                if type_ != t.BOOL:
                    raise ExprError(f"'{op}' needs bool on both sides, this is {type_}", side.pos)
            return t.BOOL
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return self._comparison(node, left, right)
        result = t.arithmetic(op, left, right)
        if result is None:
            raise ExprError(f"cannot apply '{op}' to {left} and {right}", node.pos)
        return result

    def _comparison(self, node: Binary, left: Type, right: Type) -> Type:
        assert node.left is not None and node.right is not None
        if not t.comparable(left, right):
            raise ExprError(f"cannot compare {left} with {right}", node.pos)
        if node.op not in ("==", "!=") and (
            Kind.ENUM in (left.kind, right.kind) or Kind.BOOL in (left.kind, right.kind)
        ):
            raise ExprError(
                f"'{node.op}' does not order "
                f"{left if left.kind in (Kind.ENUM, Kind.BOOL) else right}",
                node.pos,
            )
        _check_enum_literal(left, node.right)
        _check_enum_literal(right, node.left)
        return t.BOOL

    def _membership(self, node: Membership) -> Type:
        assert node.value is not None and node.options is not None
        value = self._check(node.value)
        options = self._check(node.options)
        if options.kind is Kind.PERIODS:
            if value != t.PERIOD:
                raise ExprError(f"a set of months holds periods, this is {value}", node.value.pos)
            return t.BOOL
        if options.kind is not Kind.LIST or not isinstance(node.options, ListLit):
            raise ExprError("'in' needs a list [a, b, ...] or a set of months", node.options.pos)
        assert options.elem is not None
        if node.options.items and not t.comparable(value, options.elem):
            raise ExprError(f"cannot look for {value} in a {options}", node.pos)
        for item in node.options.items:
            _check_enum_literal(value, item)
        return t.BOOL

    def _listlit(self, node: ListLit) -> Type:
        elem: Type | None = None
        for item in node.items:
            if not _is_constant(item):
                raise ExprError("list items must be literal values", item.pos)
            item_type = self._check(item)
            merged = item_type if elem is None else t.unify(elem, item_type)
            if merged is None:
                raise ExprError(f"list mixes {elem} and {item_type}", item.pos)
            elem = merged
        return t.list_of(elem or t.STRING)

    def _ifelse(self, node: IfElse) -> Type:
        assert node.condition and node.then and node.otherwise
        self.check(node.condition, t.BOOL)
        then, otherwise = self._check(node.then), self._check(node.otherwise)
        result = t.unify(then, otherwise)
        if result is None:
            raise ExprError(f"'then' gives {then} but 'else' gives {otherwise}", node.otherwise.pos)
        return result

    # -- calls ---------------------------------------------------------------------------------
    def _call(self, node: Call) -> Type:
        node.func = FUNCTION_ALIASES.get(node.func, node.func)
        sig = FUNCTIONS.get(node.func)
        pos = node.func_pos or node.pos
        if sig is None:
            raise ExprError(
                f"unknown function {node.func!r}; functions: {_listing(FUNCTIONS)}", pos
            )
        if sig.uses_birth_date and "birth_date" not in self.scope.view.fields:
            raise ExprError(f"{node.func}() needs a subject with a birth date", pos)
        if sig.uses_birth_date and self.relation is not None:
            raise ExprError(f"{node.func}() reads the subject, not {self.relation.name}", pos)
        arg_types = [self._check(arg) for arg in node.args]
        if sig.variadic:
            ok = len(arg_types) >= 2 and all(a.kind in sig.args[0][0] for a in arg_types)
            if ok and t.unify(arg_types[0], arg_types[1]) is None:
                ok = False
        else:
            ok = any(
                len(overload) == len(arg_types)
                and all(a.kind in kinds for a, kinds in zip(arg_types, overload, strict=True))
                for overload in sig.args
            )
        if not ok:
            shown = ", ".join(str(a) for a in arg_types) or "nothing"
            raise ExprError(f"{node.func}() does not take ({shown}): {sig.doc}", pos)
        if (sig.constant_args or node.func in ("date", "period")) and len(node.args) == 1:
            _check_constant_call(node)
        if "birth_date" in self.scope.view.fields and sig.uses_birth_date:
            self.usage.fields.add("birth_date")
        result = sig.result
        return result(arg_types) if callable(result) else result

    def _aggregate(self, node: Aggregate) -> Type:
        pos = node.relation_pos or node.pos
        if self.relation is not None:
            raise ExprError("aggregates cannot be nested", node.pos)
        view = self.scope.view
        name = view.relation_aliases.get(node.relation, node.relation)
        relation = view.relations.get(name)
        if relation is None:
            raise ExprError(
                f"unknown related dataset {node.relation!r}; "
                f"{view.kind} has: {_listing(view.relations)}",
                pos,
            )
        node.relation_name = name
        wants_field = node.func in ("sum", "min", "max", "avg")
        if wants_field and node.field is None:
            raise ExprError(f"{node.func}() needs a field: {node.func}({name}.FIELD ...)", pos)
        if not wants_field and node.field is not None:
            raise ExprError(f"{node.func}() counts records; drop '.{node.field}'", pos)
        self.relation = relation
        try:
            result = t.BOOL if node.func == "exists" else t.INT
            if node.field is not None:
                spec = relation.fields.get(node.field) or relation.fields.get(
                    view.field_aliases.get(node.field, "")
                )
                if spec is None:
                    raise ExprError(
                        f"{name} has no field {node.field!r}; fields: {_listing(relation.fields)}",
                        pos,
                    )
                node.field_name = spec.name
                self.usage.related.setdefault(name, set()).add(spec.name)
                result = _aggregate_type(node.func, spec.type, pos)
            if node.where is not None:
                self.check(node.where, t.BOOL)
        finally:
            self.relation = None
        self.usage.related.setdefault(name, set())
        self.usage.aggregates.append(node)
        return result


def _aggregate_type(func: str, field_type: Type, pos: object) -> Type:
    if func in ("sum", "avg"):
        if not field_type.is_numeric:
            raise ExprError(f"{func}() needs a numeric field, this is {field_type}", pos)  # type: ignore[arg-type]
        return t.DECIMAL if func == "avg" and field_type == t.INT else field_type
    if field_type.kind not in (Kind.INT, Kind.MONEY, Kind.DECIMAL, Kind.DATE, Kind.PERIOD):
        raise ExprError(f"{func}() needs a number, a date or a period, this is {field_type}", pos)  # type: ignore[arg-type]
    return field_type


def _is_constant(node: Node) -> bool:
    if isinstance(node, Literal):
        return True
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Literal):
        return True
    return (
        isinstance(node, Call)
        and node.func in ("date", "period", "yuan")
        and all(isinstance(a, Literal) for a in node.args)
    )


def _check_constant_call(node: Call) -> None:
    from eligibility.expr.constants import constant_value  # local: avoids an import cycle

    constant_value(node)


def _check_enum_literal(type_: Type, other: Node) -> None:
    if (
        type_.kind is not Kind.ENUM
        or not isinstance(other, Literal)
        or not isinstance(other.value, str)
    ):
        return
    if other.value not in type_.values:
        raise ExprError(
            f"{other.value!r} is not a possible value; expected one of: {', '.join(type_.values)}",
            other.pos,
        )


def _listing(names: object) -> str:
    keys = sorted(str(k) for k in names)  # type: ignore[attr-defined]
    return ", ".join(keys) if keys else "(none)"


def check(node: Node, scope: Scope, expected: Type | None = None) -> tuple[Type, Usage]:
    """Type-check ``node`` in ``scope``; returns its type and what it reads."""
    checker = Checker(scope)
    result = checker.check(node, expected)
    return result, checker.usage
