"""All queries of the notifications domain (SQLAlchemy Core on the outbox tables), on SQLite and
PostgreSQL alike. Status changes are conditional on the status the caller saw (and, for a claimed
row, on its claim token), so two workers, a receipt and a reconciliation can never both move the
same row; every applied change returns its ids so exactly those get a transition row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Row,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.datahub.models import DeathRecord, Person
from app.db import copy_insert_new
from notifications.models import (
    FallbackTask,
    Notification,
    NotificationStatus,
    NotificationTransition,
    SmsOptOut,
)

N = Notification.__table__  # type: ignore[attr-defined]
T = NotificationTransition.__table__  # type: ignore[attr-defined]
F = FallbackTask.__table__  # type: ignore[attr-defined]
O = SmsOptOut.__table__  # type: ignore[attr-defined]  # noqa: E741
P = Person.__table__  # type: ignore[attr-defined]
D = DeathRecord.__table__  # type: ignore[attr-defined]

CLAIM_COLUMNS = (
    N.c.id,
    N.c.unique_key,
    N.c.subject_key,
    N.c.status,
    N.c.attempts,
    N.c.body,
    N.c.variables,
    N.c.template_code,
    N.c.agency,
    N.c.essential,
    N.c.urgent,
    N.c.provider,
    N.c.claim_token,
    N.c.claimed_at,
)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _among(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``; on PostgreSQL one array parameter (``= ANY``), which keeps large
    batches cheap to parse and plan."""
    if _is_postgres(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def _chunks(values: Sequence[Any], size: int = 5000) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_notifications(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Insert, skipping any whose ``unique_key`` exists; ``(id, unique_key)`` of the new ones."""
    if not rows:
        return []
    if _is_postgres(session) and len(rows) >= COPY_MIN_ROWS:
        return _copy_new_notifications(session, rows)
    dialect_insert = pg_insert if _is_postgres(session) else sqlite_insert
    statement = (
        dialect_insert(N)
        .on_conflict_do_nothing(index_elements=["unique_key"])
        .returning(N.c.id, N.c.unique_key)
    )
    return [(row.id, row.unique_key) for row in session.execute(statement, rows)]


COPY_MIN_ROWS = 50  # below this a multi-row INSERT is cheaper than a COPY and a temp table


def _copy_new_notifications(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """A sweep's outbox rows by COPY (``app.db.copy_insert_new``); (id, unique key) of new ones."""
    return [(int(found[0]), str(found[1])) for found in
            copy_insert_new(session, "notification", rows, "unique_key", "id, unique_key")]


def insert_transitions(session: Session, transitions: list[dict[str, Any]]) -> None:
    if transitions:
        session.execute(insert(T), transitions)


def add_transitions(
    session: Session,
    ids: Iterable[int],
    from_status: str | None,
    to_status: str,
    at: datetime,
    detail: str | None = None,
) -> None:
    ids = list(ids)
    if ids and _is_postgres(session):  # one statement for the whole batch
        session.execute(
            text(
                "INSERT INTO notification_transition (notification_id, from_status, to_status, at,"
                " detail) SELECT unnest(CAST(:ids AS integer[])), :from_status, :to_status, :at,"
                " :detail"
            ),
            {
                "ids": ids,
                "from_status": from_status and str(from_status),
                "to_status": str(to_status),
                "at": at,
                "detail": detail,
            },
        )
        return
    insert_transitions(
        session,
        [
            {
                "notification_id": i,
                "from_status": from_status,
                "to_status": to_status,
                "at": at,
                "detail": detail,
            }
            for i in ids
        ],
    )


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    token: str,
    statuses: Sequence[str],
    urgent_only: bool,
) -> list[Row[Any]]:
    """Mark up to ``limit`` due rows with ``token`` (rows other workers hold are skipped)."""
    conditions = [N.c.status.in_(statuses), N.c.next_attempt_at <= now]
    if urgent_only:
        conditions.append(N.c.urgent.is_(True))
    due = select(N.c.id).where(*conditions).order_by(N.c.next_attempt_at, N.c.id).limit(limit)
    if _is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(N)
        .where(N.c.id.in_(due.scalar_subquery()), N.c.status.in_(statuses))
        .values(claim_token=token, claimed_at=now, updated_at=now)
        .returning(*CLAIM_COLUMNS)
    )
    return list(session.execute(statement))


def set_status(
    session: Session,
    ids: Sequence[int],
    *,
    expected: Sequence[str],
    token: str | None = None,
    **values: Any,
) -> list[int]:
    """Conditionally update rows; the ids actually changed."""
    changed: list[int] = []
    for chunk in _chunks(ids):
        conditions = [_among(session, N.c.id, chunk), N.c.status.in_(expected)]
        if token is not None:
            conditions.append(N.c.claim_token == token)
        statement = update(N).where(*conditions).values(**values).returning(N.c.id)
        changed.extend(session.execute(statement).scalars())
    return changed


def move(
    session: Session,
    ids: Sequence[int],
    *,
    expected: str,
    to_status: str,
    at: datetime,
    detail: str | None = None,
    token: str | None = None,
    **values: Any,
) -> list[int]:
    """Conditionally move rows from ``expected`` to ``to_status`` and log a transition for each
    row actually changed; the ids changed. On PostgreSQL the update and the transition rows are
    one statement (a data-modifying CTE) per chunk, so a batch costs one round trip."""
    if not ids:
        return []
    if not _is_postgres(session):
        changed = set_status(
            session, ids, expected=[expected], token=token, status=to_status, **values
        )
        add_transitions(session, changed, expected, to_status, at, detail)
        return changed
    moved: list[int] = []
    for chunk in _chunks(ids):
        conditions = [_among(session, N.c.id, chunk), N.c.status == str(expected)]
        if token is not None:
            conditions.append(N.c.claim_token == token)
        changed_cte = (
            update(N)
            .where(*conditions)
            .values(status=str(to_status), **values)
            .returning(N.c.id)
            .cte("changed")
        )
        logged = insert(T).from_select(
            ["notification_id", "from_status", "to_status", "at", "detail"],
            select(
                changed_cte.c.id,
                literal(str(expected), T.c.from_status.type),
                literal(str(to_status), T.c.to_status.type),
                literal(at, T.c.at.type),
                literal(detail, T.c.detail.type),
            ),
        )
        statement = select(changed_cte.c.id).add_cte(logged.cte("logged"))
        moved.extend(session.execute(statement).scalars())
    return moved


def set_message_ids(session: Session, message_ids: dict[int, str]) -> None:
    if message_ids and _is_postgres(session):
        session.execute(
            text(
                "UPDATE notification AS n SET provider_message_id = v.mid "
                "FROM unnest(CAST(:ids AS integer[]), CAST(:mids AS varchar[])) AS v(id, mid) "
                "WHERE n.id = v.id AND n.provider_message_id IS NULL"
            ),
            {"ids": list(message_ids), "mids": list(message_ids.values())},
        )
    elif message_ids:
        statement = (
            update(N)
            .where(N.c.id == _bind("b_id"), N.c.provider_message_id.is_(None))
            .values(provider_message_id=_bind("b_mid"))
        )
        session.execute(statement, [{"b_id": i, "b_mid": m} for i, m in message_ids.items()])


def _bind(name: str) -> Any:
    return bindparam(name)


def persons_for(session: Session, subject_keys: Iterable[str]) -> dict[str, Row[Any]]:
    keys = list(set(subject_keys))
    found: dict[str, Row[Any]] = {}
    for chunk in _chunks(keys):
        statement = select(P.c.subject_key, P.c.pii, P.c.status, P.c.sex, P.c.birth_date).where(
            _among(session, P.c.subject_key, chunk)
        )
        found.update((row.subject_key, row) for row in session.execute(statement))
    return found


def deceased(session: Session, subject_keys: Iterable[str]) -> set[str]:
    """Keys with a death record or marked deceased in the registry (one query per chunk)."""
    keys = list(set(subject_keys))
    dead: set[str] = set()
    for chunk in _chunks(keys):
        recorded = select(D.c.subject_key).where(_among(session, D.c.subject_key, chunk))
        marked = select(P.c.subject_key).where(
            _among(session, P.c.subject_key, chunk), P.c.status == "deceased"
        )
        dead.update(session.execute(recorded.union(marked)).scalars())
    return dead


def opted_out(session: Session, subject_keys: Iterable[str]) -> set[str]:
    keys = list(set(subject_keys))
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(
            session.execute(
                select(O.c.subject_key).where(_among(session, O.c.subject_key, chunk))
            ).scalars()
        )
    return found


def add_opt_out(session: Session, subject_key: str, source: str, now: datetime) -> bool:
    dialect_insert = pg_insert if _is_postgres(session) else sqlite_insert
    statement = (
        dialect_insert(O)
        .values(subject_key=subject_key, source=source, created_at=now)
        .on_conflict_do_nothing(index_elements=["subject_key"])
        .returning(O.c.id)
    )
    return session.execute(statement).first() is not None


def remove_opt_out(session: Session, subject_key: str) -> bool:
    return bool(
        session.execute(delete(O).where(O.c.subject_key == subject_key).returning(O.c.id)).first()
    )


def insert_fallback_tasks(session: Session, tasks: list[dict[str, Any]]) -> None:
    if tasks:
        session.execute(insert(F), tasks)


def pending_for_subject(session: Session, subject_key: str) -> list[Row[Any]]:
    return pending_for_subjects(session, [subject_key])


def pending_for_subjects(session: Session, subject_keys: Sequence[str]) -> list[Row[Any]]:
    """Messages still waiting for these subjects, locked (on PostgreSQL) in id order."""
    found: list[Row[Any]] = []
    for chunk in _chunks(sorted(set(subject_keys))):
        statement = select(N.c.id, N.c.status).where(
            _among(session, N.c.subject_key, chunk),
            N.c.status.in_([NotificationStatus.CREATED, NotificationStatus.RETRYING]),
        ).order_by(N.c.id)
        if _is_postgres(session):
            statement = statement.with_for_update()
        found += session.execute(statement)
    return found


def stale_sending(session: Session, *, claimed_before: datetime, limit: int) -> list[Row[Any]]:
    statement = (
        select(*CLAIM_COLUMNS)
        .where(N.c.status == NotificationStatus.SENDING, N.c.claimed_at < claimed_before)
        .order_by(N.c.claimed_at)
        .limit(limit)
    )
    return list(session.execute(statement))


def for_receipts(
    session: Session, out_ids: Sequence[str], message_ids: Sequence[str]
) -> list[Row[Any]]:
    columns = (N.c.id, N.c.unique_key, N.c.provider_message_id, N.c.status)
    rows: list[Row[Any]] = []
    for key_column, values in ((N.c.unique_key, out_ids), (N.c.provider_message_id, message_ids)):
        for chunk in _chunks(list(values)):
            statement = select(*columns).where(_among(session, key_column, chunk)).order_by(N.c.id)
            if _is_postgres(session):
                statement = statement.with_for_update()
            rows.extend(session.execute(statement))
    return rows


def status_counts(session: Session, batch_ref: str | None = None) -> dict[str, int]:
    statement = select(N.c.status, func.count()).group_by(N.c.status)
    if batch_ref is not None:
        statement = statement.where(N.c.batch_ref == batch_ref)
    return {status: count for status, count in session.execute(statement)}


def batch_status_counts(session: Session) -> list[Row[Any]]:
    statement = (
        select(
            N.c.batch_ref,
            N.c.status,
            func.count().label("messages"),
            func.sum(N.c.segments).label("segments"),
        )
        .group_by(N.c.batch_ref, N.c.status)
        .order_by(N.c.batch_ref)
    )
    return list(session.execute(statement))


def list_notifications(
    session: Session,
    *,
    status: str | None = None,
    subject_key: str | None = None,
    batch_ref: str | None = None,
    limit: int = 100,
) -> list[Row[Any]]:
    conditions = []
    if status:
        conditions.append(N.c.status == status)
    if subject_key:
        conditions.append(N.c.subject_key == subject_key)
    if batch_ref:
        conditions.append(N.c.batch_ref == batch_ref)
    statement = select(N).where(true(), *conditions).order_by(N.c.id.desc()).limit(limit)
    return list(session.execute(statement))


def transitions_for(session: Session, notification_ids: Sequence[int]) -> list[Row[Any]]:
    rows: list[Row[Any]] = []
    for chunk in _chunks(list(notification_ids)):
        statement = select(T).where(_among(session, T.c.notification_id, chunk)).order_by(T.c.id)
        rows.extend(session.execute(statement))
    return rows


def fallback_tasks(session: Session, subject_key: str | None = None) -> list[Row[Any]]:
    statement = select(F).order_by(F.c.id)
    if subject_key:
        statement = statement.where(F.c.subject_key == subject_key)
    return list(session.execute(statement))
