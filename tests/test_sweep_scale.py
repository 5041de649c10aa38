"""Sweep steps at a shard size past PostgreSQL's 65,535 parameters per statement (a shard of a
10M-person city holds 625,000 persons): statements that name many rows pass them as one array
parameter, never one parameter per row."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from eligibility.grants import repository as repo
from eligibility.grants.context import SweepContext
from eligibility.grants.service import close_grants
from tests.support.evaluator import LONGEVITY

MANY = 66_000  # more than one statement's parameters


def _insert_persons(connection: Connection, count: int) -> None:
    """``count`` registry rows with random-looking keys, loaded a day ago."""
    connection.execute(text(
        "INSERT INTO person (source_dept, as_of, row_hash, updated_at, subject_key, sex, "
        "birth_date, region_code, status) SELECT 'public_security', DATE '2025-01-01', 'x', "
        "now() - interval '1 day', md5(n::text), 'F', DATE '1950-01-01', '440604', 'active' "
        "FROM generate_series(1, :count) AS n"), {"count": count})


def test_closing_more_grants_than_a_statement_has_parameters(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the limit and the bulk insert below are PostgreSQL's")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO benefit_grant (policy_id, policy_version, subject_kind, subject_key, "
            "episode, state, is_open, benefit_kind, benefit_code, period_kind, start_date, "
            "process_steps, review_flags, created_at, updated_at) "
            "SELECT :policy, 'v1', 'person', lpad(n::text, 32, '0'), 1, "
            "'awaiting_confirmation', true, 'recurring_cash', :policy, 'month', "
            "DATE '2025-01-01', 'confirmation', '', now(), now() "
            "FROM generate_series(1, :many) AS n"), {"policy": LONGEVITY.id, "many": MANY})
    with Session(engine) as session:
        ctx = SweepContext(session=session, backend_or_none=None, as_of=date(2025, 11, 4))
        grants = list(session.connection().execute(select(repo.GRANT)))
        close_grants(ctx, LONGEVITY, grants, {})
        still_open = session.connection().execute(text(
            "SELECT count(*) FROM benefit_grant WHERE is_open")).scalar_one()
        withdrawn = session.connection().execute(text(
            "SELECT count(*) FROM benefit_grant WHERE state = 'withdrawn'")).scalar_one()
    assert (still_open, withdrawn) == (0, MANY)


def test_large_tables_are_sharded_by_the_planners_histogram(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above EXACT_BOUNDS_UP_TO subjects the boundaries come from the key's histogram (no
    ``OFFSET`` scan of the key index per boundary); the ranges still cover every subject and
    the shards are about even."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the planner's histogram is PostgreSQL's")
    from sqlalchemy import event

    from eligibility.sweeps import repository as sweeps_repo

    monkeypatch.setattr(sweeps_repo, "EXACT_BOUNDS_UP_TO", 1_000)
    with engine.begin() as connection:
        _insert_persons(connection, 20_000)
        connection.execute(text("ANALYZE person"))
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    with engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", record)
        bounds = sweeps_repo.shard_boundaries(connection, "person", 8)
        event.remove(connection, "before_cursor_execute", record)
        sizes = []
        for lo, hi in pairwise(bounds):
            sizes.append(connection.execute(text(
                "SELECT count(*) FROM person WHERE (CAST(:lo AS text) IS NULL OR "
                "subject_key >= :lo) AND (CAST(:hi AS text) IS NULL OR subject_key < :hi)"),
                {"lo": lo, "hi": hi}).scalar_one())
    assert not any("OFFSET" in s.upper() for s in statements)
    assert (bounds[0], bounds[-1], len(bounds)) == (None, None, 9)
    assert sum(sizes) == 20_000
    assert max(sizes) < 1.25 * 2_500 and min(sizes) > 0.75 * 2_500


def test_a_shard_worked_on_longer_than_its_lease_is_not_taken_over(engine: Engine) -> None:
    """The lease is renewed while the shard is worked on: another worker cannot claim it after
    the first lease length has passed; once work stops, the lease runs out as before."""
    import time
    import uuid

    from eligibility.grants.bulk import utcnow
    from eligibility.sweeps import repository as sweeps_repo
    from eligibility.sweeps.models import SweepRun, SweepShard
    from eligibility.sweeps.service import lease_kept

    with Session(engine) as session:
        run = SweepRun(mode="full", as_of=date(2025, 11, 4), status="running",
                       data_watermark=utcnow(), started_at=utcnow())
        session.add(run)
        session.flush()
        assert run.id is not None
        shard = SweepShard(sweep_id=run.id, subject_kind="person", shard_no=0, status="pending")
        session.add(shard)
        session.commit()
        shard_id = shard.id
    assert shard_id is not None

    def claim(token: str, lease: int) -> bool:
        with engine.begin() as connection:
            return sweeps_repo.claim_shard(connection, shard_id, token, utcnow(), lease)

    mine = str(uuid.uuid4())
    assert claim(mine, 1)
    with lease_kept(engine, shard_id, mine, 1):
        time.sleep(2.5)  # two and a half lease lengths of work
        assert not claim(str(uuid.uuid4()), 1)
    time.sleep(1.5)
    assert claim(str(uuid.uuid4()), 1)  # no longer worked on: taken over once expired


def test_changed_rows_are_found_by_index_not_by_reading_every_table(engine: Engine) -> None:
    """The incremental sweep's dirty detection (``updated_at > watermark``) reads the changed
    rows through an index: a sequential scan of every dataset table took ~10 s for the person
    table alone at 3M persons."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the plan checked is PostgreSQL's")
    from app.datahub.models import DATASET_MODELS

    with engine.begin() as connection:
        _insert_persons(connection, 20_000)
        connection.execute(text("ANALYZE person"))
        plan = "\n".join(row[0] for row in connection.execute(text(
            "EXPLAIN SELECT subject_key FROM person WHERE updated_at > now() - interval '1 hour'"
        )))
        indexed = {row[0] for row in connection.execute(text(
            "SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%(updated_at)'"))}
    assert "Seq Scan" not in plan, plan
    assert indexed >= {model.__tablename__ for model in DATASET_MODELS.values()}
