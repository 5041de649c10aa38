"""Showing values to people in plain Chinese: money in yuan, percentages, dates, periods, enum
values with their Chinese names, missing values. Used by explanations and the CLI."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from app.datahub.catalog import DEPARTMENT_NAMES, Department
from eligibility.expr.constants import period_text
from eligibility.expr.types import Kind, Type
from eligibility.views import ENUM_ZH

MISSING = "缺失"


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}元"


def percent(value: float | Decimal) -> str:
    text = f"{float(value) * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def show(value: Any, type_: Type | None, fmt: str | None = None) -> str:
    if value is None:
        return MISSING
    kind = type_.kind if type_ is not None else None
    if fmt == "percent" and isinstance(value, int | float | Decimal):
        return percent(value)
    if kind is Kind.MONEY or fmt == "money":
        return yuan(int(value))
    if kind is Kind.PERIOD and isinstance(value, int):
        return period_text(value)
    if kind is Kind.BOOL or isinstance(value, bool):
        return "是" if value else "否"
    if kind is Kind.ENUM and isinstance(value, str):
        return ENUM_ZH.get(value, value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def department_zh(code: str | None) -> str:
    if code is None:
        return MISSING
    try:
        return DEPARTMENT_NAMES[Department(code)]
    except ValueError:
        return code


def jsonable(value: Any, type_: Type | None = None) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if type_ is not None and type_.kind is Kind.PERIOD and isinstance(value, int):
        return period_text(value)
    if isinstance(value, Decimal):
        return str(value)
    return value
