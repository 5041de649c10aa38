"""The city's figures for the officer dashboard, each one query: grants created today, the cost
of this month's payments, SMS delivered, and data freshness by department (the newest as-of
date and update time of every dataset, per source department).

Freshness reads every row of every dataset (a count and two maxima per department: 1.6 s
at 1M persons, load ~7), so it is computed at most once per ``FRESHNESS_SECONDS`` per process and
database; page loads in between, and those arriving while one process recomputes, get the
figures held (at most that old: the dashboard shows dates, and data arrives daily)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from time import monotonic
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.datahub.catalog import DATASETS, DEPARTMENT_NAMES, Department
from app.datahub.models import DATASET_MODELS
from eligibility.grants.models import Grant
from eligibility.payments.models import Payment

UNPAID = ("cancelled", "legacy")


@dataclass(frozen=True)
class Freshness:
    department: str
    dataset: str
    rows: int
    as_of: date | None
    updated_at: datetime | None


def grants_created_on(session: Session, day: date) -> int:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = datetime.combine(day, time.max, tzinfo=UTC)
    statement = select(func.count()).select_from(Grant).where(
        col(Grant.created_at) >= start, col(Grant.created_at) <= end)
    return int(session.execute(statement).scalar_one())


def payments_cost(session: Session, period: str) -> int:
    """Sum of the period's payments that are or will be paid (fen)."""
    statement = select(func.coalesce(func.sum(col(Payment.amount_fen)), 0)).where(
        col(Payment.period) == period, col(Payment.status).not_in(UNPAID))
    return int(session.execute(statement).scalar_one())


def department_name(code: str) -> str:
    try:
        return DEPARTMENT_NAMES[Department(code)]
    except ValueError:
        return code


FRESHNESS_SECONDS = 60.0
_held: dict[str, tuple[float, list[Freshness]]] = {}  # database URL -> (monotonic, figures)
_computing = threading.Lock()


def freshness(session: Session) -> list[Freshness]:
    """The freshness figures, recomputed when those held are ``FRESHNESS_SECONDS`` old."""
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    held = _held.get(database)
    if held is not None and monotonic() - held[0] < FRESHNESS_SECONDS:
        return held[1]
    if not _computing.acquire(blocking=held is None):
        assert held is not None
        return held[1]  # another request is recomputing: the figures held will do
    try:
        figures = compute_freshness(session)
        _held[database] = (monotonic(), figures)
        return figures
    finally:
        _computing.release()


def forget_freshness() -> None:
    _held.clear()


def compute_freshness(session: Session) -> list[Freshness]:
    out = []
    zh = {spec.name: spec.zh for spec in DATASETS}
    for name, model in sorted(DATASET_MODELS.items()):
        table: Any = model.__table__  # type: ignore[attr-defined]
        statement = select(table.c.source_dept, func.count(), func.max(table.c.as_of),
                           func.max(table.c.updated_at)).group_by(table.c.source_dept)
        for dept, rows, as_of, updated in session.execute(statement):
            out.append(Freshness(department_name(dept), zh.get(name, name), rows, as_of,
                                 updated))
    return sorted(out, key=lambda f: (f.department, f.dataset))
