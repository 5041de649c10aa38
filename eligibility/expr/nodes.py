"""The abstract syntax tree of the expression language.

Nodes are plain dataclasses; the parser builds them, the type checker fills in ``type`` and, for
names, ``ref`` (what the name resolved to), and the compiler turns a checked tree into Polars.
``start``/``end`` are offsets into the expression text so explanations can quote a sub-expression.
Nothing here evaluates anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eligibility.expr.errors import Pos

if TYPE_CHECKING:
    from eligibility.expr.types import Type

LiteralValue = int | Decimal | str | bool | date


@dataclass(eq=False)
class Node:
    pos: Pos
    start: int
    end: int
    type: Type | None = dc_field(default=None, init=False, repr=False)

    def children(self) -> list[Node]:
        return []


@dataclass(eq=False)
class Literal(Node):
    value: LiteralValue = 0


@dataclass(eq=False)
class ListLit(Node):
    items: list[Node] = dc_field(default_factory=list)

    def children(self) -> list[Node]:
        return list(self.items)


@dataclass(eq=False)
class Name(Node):
    """A possibly dotted name: ``birth_date``, ``param.amount``, ``tier.amount_fen``."""

    parts: tuple[str, ...] = ()
    ref: Any = dc_field(default=None, init=False, repr=False)  # set by the checker

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(eq=False)
class Unary(Node):
    op: str = "-"  # "-" or "not"
    operand: Node | None = None

    def children(self) -> list[Node]:
        return [self.operand] if self.operand else []


@dataclass(eq=False)
class Binary(Node):
    op: str = "+"  # + - * / and or == != < <= > >=
    left: Node | None = None
    right: Node | None = None

    def children(self) -> list[Node]:
        return [n for n in (self.left, self.right) if n is not None]


@dataclass(eq=False)
class Membership(Node):
    """``value in [a, b]`` / ``value in last_months(as_of, 12)`` / ``value not in [...]``."""

    value: Node | None = None
    options: Node | None = None
    negated: bool = False

    def children(self) -> list[Node]:
        return [n for n in (self.value, self.options) if n is not None]


@dataclass(eq=False)
class IfElse(Node):
    condition: Node | None = None
    then: Node | None = None
    otherwise: Node | None = None

    def children(self) -> list[Node]:
        return [n for n in (self.condition, self.then, self.otherwise) if n is not None]


@dataclass(eq=False)
class Call(Node):
    func: str = ""
    args: list[Node] = dc_field(default_factory=list)
    func_pos: Pos | None = None

    def children(self) -> list[Node]:
        return list(self.args)


AGGREGATES = frozenset({"exists", "count", "sum", "min", "max", "avg"})


@dataclass(eq=False)
class Aggregate(Node):
    """``count(ui_contribution where ...)``, ``sum(ui_contribution.contribution_fen where ...)``.

    ``relation`` is the related dataset's name as written (an alias until the checker resolves
    it into ``relation_name``); ``field`` is the aggregated field for sum/min/max/avg.
    """

    func: str = "count"
    relation: str = ""
    field: str | None = None
    where: Node | None = None
    relation_pos: Pos | None = None
    relation_name: str = dc_field(default="", init=False)
    field_name: str | None = dc_field(default=None, init=False)

    def children(self) -> list[Node]:
        return [self.where] if self.where is not None else []


def walk(node: Node) -> list[Node]:
    """Every node of the tree, parents before children (iterative: depth is already bounded)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.children()))
    return out
