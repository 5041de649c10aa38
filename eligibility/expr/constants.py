"""Constant folding for literal-only forms: ``date("2025-01-01")``, ``period("2025-01")``,
``yuan(1500)``, negative literals. Used by the checker (to reject a bad date early, with its
position), by the compiler and by decision-table analysis. Periods are month indexes."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from eligibility.expr.errors import ExprError
from eligibility.expr.nodes import Call, Literal, Node, Unary

ConstValue = int | Decimal | str | bool | date


def period_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def period_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def parse_period(text: str) -> int:
    """``"2025-03"`` → month index; raises ``ValueError`` for anything else."""
    year, sep, month = text.partition("-")
    if not sep or len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
        raise ValueError(f"not a period YYYY-MM: {text!r}")
    if not 1 <= int(month) <= 12:
        raise ValueError(f"month out of range in {text!r}")
    return period_index(int(year), int(month))


def yuan_to_fen(value: int | Decimal) -> int:
    return int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def constant_value(node: Node) -> ConstValue:
    """Value of a constant node; :class:`ExprError` if it is not constant or not valid."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Literal):
        value = node.operand.value
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return -value
    if isinstance(node, Call) and len(node.args) == 1 and isinstance(node.args[0], Literal):
        arg = node.args[0].value
        try:
            if node.func == "date" and isinstance(arg, str):
                return date.fromisoformat(arg) if len(arg) == 10 else _bad_date(arg)
            if node.func == "period" and isinstance(arg, str):
                return parse_period(arg)
            if node.func == "yuan" and isinstance(arg, int | Decimal) and not isinstance(arg, bool):
                return yuan_to_fen(arg)
        except ValueError as error:
            raise ExprError(str(error), node.args[0].pos) from None
    raise ExprError("expected a literal value", node.pos)


def _bad_date(text: str) -> date:
    raise ValueError(f"not a date YYYY-MM-DD: {text!r}")
