"""Sweep steps at a shard size past PostgreSQL's 65,535 parameters per statement (a shard of a
10M-person city holds 625,000 persons): statements that name many rows pass them as one array
parameter, never one parameter per row."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from eligibility.grants import repository as repo
from eligibility.grants.context import SweepContext
from eligibility.grants.service import close_grants
from tests.support.evaluator import LONGEVITY

MANY = 66_000  # more than one statement's parameters


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
