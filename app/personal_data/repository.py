"""Every query of the personal-data domain: the access log, and reading a person's rows from
other domains' tables by pseudonymous key (for the export). Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, or_, select
from sqlmodel import Session, col

from app.personal_data.models import PersonalDataAccess

ACCESS = PersonalDataAccess.__table__  # type: ignore[attr-defined]


def insert_access(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """One INSERT for the views of one request (Core: no ORM objects)."""
    if rows:
        session.connection().execute(insert(ACCESS), list(rows))


def access_of_subject(session: Session, subject_key: str, since: datetime | None,
                      limit: int) -> list[PersonalDataAccess]:
    statement = select(PersonalDataAccess).where(col(PersonalDataAccess.subject_key)
                                                 == subject_key)
    if since is not None:
        statement = statement.where(col(PersonalDataAccess.at) >= since)
    statement = statement.order_by(col(PersonalDataAccess.at).desc(),
                                   col(PersonalDataAccess.id).desc()).limit(limit)
    return list(session.scalars(statement))


def access_by_viewer(session: Session, viewer_id: str, limit: int) -> list[PersonalDataAccess]:
    statement = (select(PersonalDataAccess)
                 .where(col(PersonalDataAccess.viewer_id) == viewer_id)
                 .order_by(col(PersonalDataAccess.at).desc(), col(PersonalDataAccess.id).desc())
                 .limit(limit))
    return list(session.scalars(statement))


def rows_with_key(session: Session, table: Table, columns: Sequence[str],
                  key: str) -> list[dict[str, Any]]:
    """Rows of ``table`` where any of ``columns`` equals ``key``, as dicts, by primary key."""
    matching = or_(*(table.c[name] == key for name in columns))
    order = list(table.primary_key.columns)
    return [dict(row._mapping) for row in
            session.connection().execute(select(table).where(matching).order_by(*order))]


def rows_where_in(session: Session, table: Table, column: str,
                  values: Sequence[Any]) -> list[dict[str, Any]]:
    if not values:
        return []
    order = list(table.primary_key.columns)
    statement = select(table).where(table.c[column].in_(list(values))).order_by(*order)
    return [dict(row._mapping) for row in session.connection().execute(statement)]
