"""All queries of decisions and grants, plus the few reads of shared data the lifecycle needs
(death dates, moves, mobiles, disagreements between departments). Bulk reads return Polars
frames or plain tuples; nothing here decides anything."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from app.datahub.models import DeathRecord, Enterprise, HukouMove, Person
from eligibility.grants.bulk import where_in
from eligibility.grants.models import AutomationRefusal, Decision, Grant, GrantAmount, GrantEvent
from eligibility.sweeps.backend import Selection

DECISION: Table = Decision.__table__  # type: ignore[attr-defined]
GRANT: Table = Grant.__table__  # type: ignore[attr-defined]
GRANT_EVENT: Table = GrantEvent.__table__  # type: ignore[attr-defined]
GRANT_AMOUNT: Table = GrantAmount.__table__  # type: ignore[attr-defined]

DECISION_HEAD_SCHEMA = {
    "subject_key": pl.String,
    "decision_id": pl.Int64,
    "seq": pl.Int64,
    "cur_eligible": pl.Boolean,
    "cur_tier": pl.String,
    "cur_amount_fen": pl.Int64,
}


def range_condition(column: Any, selection: Selection) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if selection.key_lo is not None:
        conditions.append(column >= selection.key_lo)
    if selection.key_hi is not None:
        conditions.append(column < selection.key_hi)
    return and_(True, *conditions)


Keys = Sequence[Any] | Selection | None
"""Which subjects a query covers: explicit keys, a key range (with optional keys), or all."""


def _rows_for_keys(connection: Connection, statement: Any, column: Any, keys: Keys) -> list[Any]:
    """Run ``statement`` for the subjects in ``keys``; IN-lists are sent in chunks."""
    if isinstance(keys, Selection):
        statement = statement.where(range_condition(column, keys))
        keys = keys.keys
    if keys is None:
        return list(connection.execute(statement))
    rows: list[Any] = []
    for condition in where_in(connection, column, list(keys)):
        rows.extend(connection.execute(statement.where(condition)))
    return rows


def current_decisions(connection: Connection, policy_id: str, keys: Keys) -> pl.DataFrame:
    table = DECISION
    statement = select(
        table.c.subject_key,
        table.c.id,
        table.c.seq,
        table.c.eligible,
        table.c.tier,
        table.c.amount_fen,
    ).where(table.c.policy_id == policy_id, table.c.is_current)
    rows = _rows_for_keys(connection, statement, table.c.subject_key, keys)
    return pl.DataFrame(
        [tuple(row) for row in rows], schema=DECISION_HEAD_SCHEMA, orient="row"
    ).with_columns(pl.col("cur_eligible").cast(pl.Boolean))


def supersede(connection: Connection, decision_ids: Sequence[int]) -> None:
    for condition in where_in(connection, DECISION.c.id, list(decision_ids)):
        connection.execute(update(DECISION).where(condition).values(is_current=False))


def open_grants(connection: Connection, policy_id: str, keys: Keys) -> list[Any]:
    statement = select(GRANT).where(GRANT.c.policy_id == policy_id, GRANT.c.is_open)
    return _rows_for_keys(connection, statement, GRANT.c.subject_key, keys)


def last_episodes(connection: Connection, policy_id: str, keys: Keys) -> dict[str, int]:
    statement = (
        select(GRANT.c.subject_key, func.max(GRANT.c.episode))
        .where(GRANT.c.policy_id == policy_id)
        .group_by(GRANT.c.subject_key)
    )
    rows = _rows_for_keys(connection, statement, GRANT.c.subject_key, keys)
    return {row[0]: row[1] for row in rows}


def grants_in_states(
    connection: Connection, states: Sequence[str], selection: Selection, extra: Any = None
) -> list[Any]:
    statement = select(GRANT).where(
        GRANT.c.state.in_(list(states)), range_condition(GRANT.c.subject_key, selection)
    )
    if extra is not None:
        statement = statement.where(extra)
    return list(connection.execute(statement.order_by(GRANT.c.id)))


def amount_schedules(connection: Connection, grant_ids: Sequence[int]) -> dict[int, list[Any]]:
    statement = select(GRANT_AMOUNT).order_by(GRANT_AMOUNT.c.from_period)
    schedules: dict[int, list[Any]] = {}
    for row in _rows_for_keys(connection, statement, GRANT_AMOUNT.c.grant_id, grant_ids):
        schedules.setdefault(row.grant_id, []).append(row)
    return schedules


# ---- shared data the lifecycle reads -------------------------------------------------------


def death_dates(connection: Connection, keys: Keys) -> dict[str, date]:
    table = DeathRecord.__table__  # type: ignore[attr-defined]
    statement = select(table.c.subject_key, func.min(table.c.date_of_death)).group_by(
        table.c.subject_key
    )
    return {r[0]: r[1] for r in _rows_for_keys(connection, statement, table.c.subject_key, keys)}


def move_out_dates(connection: Connection, keys: Keys) -> dict[str, date]:
    table = HukouMove.__table__  # type: ignore[attr-defined]
    statement = (
        select(table.c.subject_key, func.max(table.c.move_date))
        .where(table.c.direction == "out")
        .group_by(table.c.subject_key)
    )
    return {r[0]: r[1] for r in _rows_for_keys(connection, statement, table.c.subject_key, keys)}


def person_statuses(connection: Connection, keys: Keys) -> dict[str, str]:
    table = Person.__table__  # type: ignore[attr-defined]
    statement = select(table.c.subject_key, table.c.status)
    return {r[0]: r[1] for r in _rows_for_keys(connection, statement, table.c.subject_key, keys)}


def enterprise_statuses(connection: Connection, keys: Keys) -> dict[str, str]:
    table = Enterprise.__table__  # type: ignore[attr-defined]
    statement = select(table.c.uscc, table.c.status)
    return {r[0]: r[1] for r in _rows_for_keys(connection, statement, table.c.uscc, keys)}


def keys_without_mobile(connection: Connection, keys: Keys) -> set[str]:
    table = Person.__table__  # type: ignore[attr-defined]
    statement = select(table.c.subject_key).where(table.c.mobile_index.is_(None))
    return {r[0] for r in _rows_for_keys(connection, statement, table.c.subject_key, keys)}


def keys_with_disagreement(connection: Connection, keys: Keys) -> set[str]:
    """Departments disagree: death records with different dates, or a death record while the
    population registry still says the person is active."""
    deaths = DeathRecord.__table__  # type: ignore[attr-defined]
    persons = Person.__table__  # type: ignore[attr-defined]
    dates = (
        select(deaths.c.subject_key)
        .group_by(deaths.c.subject_key)
        .having(func.count(func.distinct(deaths.c.date_of_death)) > 1)
    )
    active = (
        select(deaths.c.subject_key)
        .join(persons, persons.c.subject_key == deaths.c.subject_key)
        .where(persons.c.status == "active")
    )
    found = {r[0] for r in _rows_for_keys(connection, dates, deaths.c.subject_key, keys)}
    found |= {r[0] for r in _rows_for_keys(connection, active, deaths.c.subject_key, keys)}
    return found


def keys_refusing_automation(connection: Connection, keys: Keys) -> set[str]:
    table = AutomationRefusal.__table__  # type: ignore[attr-defined]
    statement = select(table.c.subject_key)
    return {r[0] for r in _rows_for_keys(connection, statement, table.c.subject_key, keys)}


# ---- ORM reads for officers and the CLI ----------------------------------------------------


def get_grant(session: Session, grant_id: int) -> Grant | None:
    return session.get(Grant, grant_id)


def grant_events(session: Session, grant_id: int) -> list[GrantEvent]:
    statement = orm_select(GrantEvent).where(col(GrantEvent.grant_id) == grant_id)
    return list(session.exec(statement.order_by(col(GrantEvent.id))).all())


def grant_amounts(session: Session, grant_id: int) -> list[GrantAmount]:
    statement = orm_select(GrantAmount).where(col(GrantAmount.grant_id) == grant_id)
    return list(session.exec(statement.order_by(col(GrantAmount.from_period))).all())


def decision(session: Session, decision_id: int) -> Decision | None:
    return session.get(Decision, decision_id)


def decisions_for(session: Session, policy_id: str, subject_key: str) -> list[Decision]:
    statement = orm_select(Decision).where(
        col(Decision.policy_id) == policy_id, col(Decision.subject_key) == subject_key
    )
    return list(session.exec(statement.order_by(col(Decision.seq))).all())


def open_grants_of_subject(session: Session, subject_key: str) -> list[Grant]:
    statement = orm_select(Grant).where(col(Grant.subject_key) == subject_key, col(Grant.is_open))
    return list(session.exec(statement.order_by(col(Grant.id))).all())


def or_all(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(False, *conditions)


def policy_summary(session: Session) -> list[tuple[str, str, int, int]]:
    """(policy id, state, grants, sum of current amounts in fen) over open grants."""
    statement = (
        select(
            col(Grant.policy_id),
            col(Grant.state),
            func.count(),
            func.coalesce(func.sum(Grant.amount_fen), 0),
        )
        .where(col(Grant.is_open))
        .group_by(Grant.policy_id, Grant.state)
        .order_by(Grant.policy_id, Grant.state)
    )
    rows = session.connection().execute(statement).all()
    return [(str(p), str(s), int(n), int(total or 0)) for p, s, n, total in rows]
