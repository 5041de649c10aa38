"""A sweep's batch of grant changes becomes outbox rows through one COPY on PostgreSQL (the
path taken from 50 rows): one row per message identity, none twice when the batch comes again
(a re-run sweep), and the transitions written for the new rows only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import engine_for
from eligibility.grants.hooks import GrantChange
from notifications import grant_hooks
from notifications.repository import COPY_MIN_ROWS
from tests.conftest import truncate_all

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = engine_for(pg_url)
    truncate_all(engine)
    yield engine
    truncate_all(engine)


def _changes(count: int) -> list[GrantChange]:
    return [GrantChange(grant_id=n, policy_id="elderly-card", subject_kind="person",
                        subject_key=f"{n:032x}", from_state=None, to_state="granted",
                        reason="eligible", effective_date=date(2025, 11, 1))
            for n in range(1, count + 1)]


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_large_batch_is_copied_once_and_a_rerun_adds_nothing(engine: Engine) -> None:
    count = COPY_MIN_ROWS + 25
    with Session(engine) as session:
        grant_hooks.on_grant_changed(session, _changes(count))
        session.commit()
    assert _count(engine, "notification") == count
    assert _count(engine, "notification_transition") == count
    with Session(engine) as session:  # the same batch plus 5 new messages
        grant_hooks.on_grant_changed(session, _changes(count + 5))
        session.commit()
    assert _count(engine, "notification") == count + 5
    assert _count(engine, "notification_transition") == count + 5
    with engine.connect() as connection:
        bodies = connection.execute(text(
            "SELECT DISTINCT status, event_kind FROM notification")).all()
    assert bodies == [("created", "granted")]
