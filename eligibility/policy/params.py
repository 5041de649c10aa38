"""Parameters with dated values: the value in force on a date is the one with the latest
``from`` on or before it (like OpenFisca parameters). An amount changes by adding a dated value,
without a new policy. Values are typed here: money in fen (int), decimals from numbers or
percent text (``"5.5%"``), dates, text, booleans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from eligibility.expr import types as t
from eligibility.expr.constants import ConstValue
from eligibility.expr.errors import MAX_INT_DIGITS
from eligibility.expr.types import Type
from eligibility.policy.model import Parameter, ParamType

PARAM_TYPES: dict[ParamType, Type] = {
    ParamType.MONEY: t.MONEY,
    ParamType.INT: t.INT,
    ParamType.DECIMAL: t.DECIMAL,
    ParamType.STRING: t.STRING,
    ParamType.BOOL: t.BOOL,
    ParamType.DATE: t.DATE,
}


@dataclass(frozen=True)
class DatedParameter:
    name: str
    type: Type
    description: str
    values: tuple[tuple[date, ConstValue], ...]  # ascending by date

    def value_on(self, day: date) -> ConstValue | None:
        current: ConstValue | None = None
        for start, value in self.values:
            if start > day:
                break
            current = value
        return current


def typed_value(param_type: ParamType, raw: object) -> ConstValue:
    """A YAML value as the parameter's type; raises ``ValueError`` with a plain message."""
    if param_type in (ParamType.MONEY, ParamType.INT):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"expected a whole number{' of fen' if param_type == 'money' else ''}")
        if abs(raw) >= 10**MAX_INT_DIGITS:
            raise ValueError("number too large")
        return raw
    if param_type is ParamType.DECIMAL:
        return _decimal(raw)
    if param_type is ParamType.BOOL:
        if not isinstance(raw, bool):
            raise ValueError("expected true or false")
        return raw
    if param_type is ParamType.DATE:
        if not isinstance(raw, date):
            raise ValueError("expected a date YYYY-MM-DD")
        return raw
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise ValueError("expected text")
    return str(raw)


def _decimal(raw: object) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError("expected a number or a percentage like '5.5%'")
    try:
        if isinstance(raw, str):
            text = raw.strip()
            value = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
        elif isinstance(raw, int | float):
            value = Decimal(str(raw))
        else:
            raise ValueError
    except (InvalidOperation, ValueError):
        raise ValueError("expected a number or a percentage like '5.5%'") from None
    if not value.is_finite() or abs(value) >= 10**MAX_INT_DIGITS:
        raise ValueError("number out of range")
    return value


def dated_parameter(name: str, spec: Parameter) -> DatedParameter:
    """Raises ``ValueError`` naming the offending value's index."""
    values: list[tuple[date, ConstValue]] = []
    for i, entry in enumerate(spec.values):
        try:
            values.append((entry.from_, typed_value(spec.type, entry.value)))
        except ValueError as error:
            raise IndexedValueError(i, str(error)) from None
    starts = [start for start, _ in values]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        raise IndexedValueError(0, "dated values must be in ascending order of 'from', no repeats")
    return DatedParameter(name, PARAM_TYPES[spec.type], spec.description, tuple(values))


class IndexedValueError(ValueError):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
