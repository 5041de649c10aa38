"""All queries of sweeps: runs and shards (planning, leases, completion), shard boundaries by
subject-key quantiles, and which subjects changed or hit a date trigger since the last sweep.

Which storage columns identify a subject comes from the data catalog: a person dataset's ID
number fields (stored as ``subject_key``, ``mother_key``...), an enterprise dataset's USCC.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, func, literal_column, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from app.datahub.catalog import DATASETS, FieldType
from app.datahub.models import DATASET_MODELS
from eligibility.events.models import ReevaluationRequest
from eligibility.sweeps.models import SweepRun, SweepShard

SHARD: Table = SweepShard.__table__  # type: ignore[attr-defined]
RUN: Table = SweepRun.__table__  # type: ignore[attr-defined]
REEVALUATION: Table = ReevaluationRequest.__table__  # type: ignore[attr-defined]

SUBJECT_TABLES = {"person": ("person", "subject_key"), "enterprise": ("enterprise", "uscc"),
                  "child": ("birth_certificate", "certificate_no")}  # a child: its certificate
# Date columns whose anniversaries can change an outcome, and the subjects they concern.
DATE_TRIGGERS: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "person": (
        ("person", "birth_date", ("subject_key",)),
        ("birth_certificate", "birth_date", ("mother_key", "father_key", "child_key")),
    ),
    "enterprise": (("enterprise", "registration_date", ("uscc",)),),
    "child": (("birth_certificate", "birth_date", ("certificate_no",)),),
}


def subject_columns(kind: str) -> list[tuple[str, str]]:
    """(table, column) pairs that name a subject of ``kind`` in the shared data."""
    found = []
    for spec in DATASETS:
        for field in spec.fields:
            if kind == "person" and field.type is FieldType.ID_NUMBER and spec.subject == "person":
                found.append((spec.name, field.storage_column or ""))
            elif kind == "enterprise" and field.type is FieldType.USCC:
                found.append((spec.name, field.name))
    if kind == "child":
        found.append(SUBJECT_TABLES["child"])
    return found


def _table(name: str) -> Table:
    return DATASET_MODELS[name].__table__  # type: ignore[attr-defined]


EXACT_BOUNDS_UP_TO = 200_000  # subjects; above, boundaries come from the planner's histogram


def shard_boundaries(connection: Connection, kind: str, shards: int) -> list[str | None]:
    """``shards + 1`` boundaries (first and last None) splitting the subjects evenly: exact
    quantiles (one ``OFFSET`` query each) for a small table; on PostgreSQL for a large one
    (by the planner's row estimate), the key column's equi-depth histogram from ``ANALYZE``
    (101 bounds by default: shards even to about 1 % of the table). ``OFFSET`` reads the key
    index up to each boundary, 7.5 × the table for 16 shards: about 45 s of a loaded server at
    10M persons before any shard starts. Boundaries need not be exact: the ranges cover every
    key whatever they are; only the shards' sizes vary a little."""
    table_name, column_name = SUBJECT_TABLES[kind]
    if shards > 1 and connection.dialect.name == "postgresql":
        bounds = _histogram_boundaries(connection, table_name, column_name, shards)
        if bounds is not None:
            return bounds
    column = _table(table_name).c[column_name]
    total = connection.execute(select(func.count()).select_from(_table(table_name))).scalar_one()
    bounds = [None]
    for index in range(1, shards):
        offset = total * index // shards
        value = connection.execute(
            select(column).order_by(column).offset(offset).limit(1)
        ).scalar()
        if value is not None and value != bounds[-1]:
            bounds.append(value)
    bounds.append(None)
    return bounds


def _histogram_boundaries(
    connection: Connection, table_name: str, column_name: str, shards: int
) -> list[str | None] | None:
    """Boundaries from the planner's histogram of a large table's key; None if the table is
    small (by ``reltuples``), not analysed, or its histogram too coarse for ``shards``."""
    row = connection.execute(text(
        "SELECT c.reltuples, s.histogram_bounds::text::text[] FROM pg_class c "
        "LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname "
        "AND s.attname = :column WHERE c.oid = CAST(:table AS regclass)"
    ), {"table": table_name, "column": column_name}).first()
    if row is None or (row[0] or 0) <= EXACT_BOUNDS_UP_TO or not row[1]:
        return None
    histogram: list[str] = row[1]
    if len(histogram) < 4 * shards:
        return None
    last = len(histogram) - 1
    bounds: list[str | None] = [None]
    for index in range(1, shards):
        value = histogram[round(last * index / shards)]
        if value != bounds[-1]:
            bounds.append(value)
    bounds.append(None)
    return bounds


def key_boundaries(keys: Sequence[str], shards: int) -> list[str | None]:
    """``shards + 1`` boundaries (first and last None) splitting sorted ``keys`` evenly; the
    ranges still cover every key, so shard-wide work (ledgers, notices) misses no one."""
    bounds: list[str | None] = [None]
    for index in range(1, shards):
        value = keys[len(keys) * index // shards] if keys else None
        if value is not None and value != bounds[-1]:
            bounds.append(value)
    bounds.append(None)
    return bounds


def subject_count(connection: Connection, kind: str) -> int:
    table_name, _ = SUBJECT_TABLES[kind]
    statement = select(func.count()).select_from(_table(table_name))
    return int(connection.execute(statement).scalar_one())


def changed_subjects(connection: Connection, kind: str, since: datetime) -> set[str]:
    """Subjects named by any row updated after ``since`` (one scan per table)."""
    by_table: dict[str, list[str]] = {}
    for table_name, column_name in subject_columns(kind):
        by_table.setdefault(table_name, []).append(column_name)
    keys: set[str] = set()
    for table_name, column_names in by_table.items():
        table = _table(table_name)
        statement = select(*(table.c[name] for name in column_names)).where(
            table.c.updated_at > since
        )
        for row in connection.execute(statement):
            keys.update(value for value in row if value is not None)
    return keys


def _month_day(connection: Connection, column: Any) -> Any:
    if connection.dialect.name == "postgresql":
        return func.to_char(column, literal_column("'MM-DD'"))
    return func.strftime("%m-%d", column)


def _day(connection: Connection, column: Any) -> Any:
    if connection.dialect.name == "postgresql":
        return func.to_char(column, literal_column("'DD'"))
    return func.strftime("%d", column)


def window_days(after: date, up_to: date) -> list[date]:
    days, day = [], after + timedelta(days=1)
    while day <= up_to:
        days.append(day)
        day += timedelta(days=1)
    return days


def date_triggered_subjects(
    connection: Connection, kind: str, after: date, up_to: date
) -> set[str]:
    """Subjects with an anniversary in (after, up_to]: a birthday for persons (29 February
    counts on 28 February and 1 March of common years; a new month brings in the whole month
    for rules stated on the payment month), the day of the month of registration for
    enterprises."""
    days = window_days(after, up_to)
    if not days:
        return set()
    month_days = {d.strftime("%m-%d") for d in days}
    for day in days:
        leap_day_stand_in = day.strftime("%m-%d") in ("02-28", "03-01")
        if leap_day_stand_in and not _leap(day.year):
            month_days.add("02-29")
    new_months = {d.strftime("%m") for d in days if d.day == 1}
    keys: set[str] = set()
    for table_name, date_column, key_columns in DATE_TRIGGERS[kind]:
        table = _table(table_name)
        column = table.c[date_column]
        if kind == "enterprise":
            condition = _day(connection, column).in_(sorted({d.strftime("%d") for d in days}))
        else:
            conditions = [_month_day(connection, column).in_(sorted(month_days))]
            for month in new_months:
                conditions.append(_month_day(connection, column).like(f"{month}-%"))
            condition = or_(*conditions)
        for key_column in key_columns:
            key = table.c[key_column]
            statement = select(key).where(condition, key.is_not(None))
            keys.update(row[0] for row in connection.execute(statement.distinct()))
    return keys


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def pending_reevaluations(connection: Connection, kind: str) -> dict[int, str]:
    statement = select(REEVALUATION.c.id, REEVALUATION.c.subject_key).where(
        REEVALUATION.c.subject_kind == kind, REEVALUATION.c.sweep_id.is_(None)
    )
    return {row[0]: row[1] for row in connection.execute(statement)}


def mark_reevaluations(connection: Connection, ids: Sequence[int], sweep_id: int) -> None:
    for start in range(0, len(ids), 5_000):
        connection.execute(
            update(REEVALUATION).where(REEVALUATION.c.id.in_(list(ids[start : start + 5_000])))
            .values(sweep_id=sweep_id)
        )


def last_completed(session: Session, before_id: int | None = None) -> SweepRun | None:
    statement = orm_select(SweepRun).where(col(SweepRun.status) == "done")
    if before_id is not None:
        statement = statement.where(col(SweepRun.id) < before_id)
    return session.exec(statement.order_by(col(SweepRun.id).desc()).limit(1)).first()


def go_live(connection: Connection, sweep_id: int) -> date | None:
    """As-of date of the first completed sweep before this one: the pipeline's go-live."""
    statement = select(func.min(RUN.c.as_of)).where(RUN.c.status == "done", RUN.c.id < sweep_id)
    value: date | None = connection.execute(statement).scalar()
    return value


def claim_shard(
    connection: Connection, shard_id: int, token: str, now: datetime, lease_seconds: int
) -> bool:
    """Take the lease of a pending shard, or of a leased one whose lease expired."""
    result = connection.execute(
        update(SHARD)
        .where(
            SHARD.c.id == shard_id,
            or_(
                SHARD.c.status == "pending",
                and_(SHARD.c.status == "leased", SHARD.c.lease_expires_at < now),
            ),
        )
        .values(
            status="leased", lease_token=token, attempts=SHARD.c.attempts + 1,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
        )
    )
    return bool(result.rowcount)


def extend_lease(
    connection: Connection, shard_id: int, token: str, now: datetime, lease_seconds: float
) -> bool:
    """Push the lease of a shard this worker still holds ``lease_seconds`` past ``now``."""
    outcome = connection.execute(
        update(SHARD)
        .where(SHARD.c.id == shard_id, SHARD.c.lease_token == token, SHARD.c.status == "leased")
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    return bool(outcome.rowcount)


def complete_shard(
    connection: Connection, shard_id: int, token: str, result: dict[str, Any], now: datetime
) -> bool:
    """Mark the shard done if this worker still holds its lease (else nothing is written)."""
    outcome = connection.execute(
        update(SHARD)
        .where(SHARD.c.id == shard_id, SHARD.c.lease_token == token, SHARD.c.status == "leased")
        .values(status="done", result=json.dumps(result, sort_keys=True), finished_at=now)
    )
    return bool(outcome.rowcount)


def shards_of(session: Session, sweep_id: int) -> list[SweepShard]:
    statement = orm_select(SweepShard).where(col(SweepShard.sweep_id) == sweep_id)
    return list(session.exec(statement.order_by(col(SweepShard.id))).all())


# Tables a sweep writes in bulk that later sweeps look up by key arrays.
WRITTEN_TABLES = ("decision", "benefit_grant", "grant_amount", "payment", "audit_entry")


def refresh_statistics(engine: Engine) -> None:
    """``ANALYZE`` the tables a sweep writes (PostgreSQL; SQLite plans without statistics)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        connection.execute(text(f"ANALYZE {', '.join(WRITTEN_TABLES)}"))
        connection.commit()


def lock_timeout(connection: Connection, seconds: int = 60) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL lock_timeout = '{int(seconds)}s'"))
