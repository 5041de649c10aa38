"""The dashboard's data freshness (``app.console.figures.freshness``): it reads every dataset, so
it is computed at most once per ``FRESHNESS_SECONDS`` per process; page loads in between cost no
query and show the figures held, and after that period new data shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.console import figures
from tests.support import data


@contextmanager
def _counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "GROUP BY" in statement:  # the freshness reads, not the test's own inserts
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _persons(rows: list[figures.Freshness]) -> int:
    return sum(f.rows for f in rows if f.dataset == "户籍人口")


def test_freshness_is_computed_once_per_period_then_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    data.add_person(engine, 1, date(1960, 1, 1))
    with Session(engine) as session, _counted(engine) as statements:
        first = figures.freshness(session)
        computed = len(statements)
        assert _persons(first) == 1 and computed >= len(figures.DATASET_MODELS)
        data.add_person(engine, 2, date(1961, 1, 1))
        held = figures.freshness(session)
        assert held == first and len(statements) == computed  # no query at all
    monkeypatch.setattr(figures, "FRESHNESS_SECONDS", 0.0)
    with Session(engine) as session:
        assert _persons(figures.freshness(session)) == 2  # the period passed: recomputed
