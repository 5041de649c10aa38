"""Every query of the audit log. Services call these inside the caller's transaction; nothing
here commits.

Serialisation of appends: :func:`lock_head` takes a row lock on the single ``audit_log_head``
row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite a no-op ``UPDATE`` first, which takes the
database write lock before anything is read). Whoever holds it assigns the next sequence numbers;
the lock is released when the caller's transaction ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.audit.merkle import NodeKey
from app.audit.models import (
    LOG_ID,
    AuditEntry,
    AuditLogHead,
    AuditLogKey,
    AuditNode,
    AuditTreeHead,
)

QUERY_CHUNK = 2000  # keys per IN list (SQLite's bound-parameter limit)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def head(session: Session) -> AuditLogHead | None:
    return session.get(AuditLogHead, LOG_ID)


def lock_head(session: Session) -> AuditLogHead | None:
    if _dialect(session) == "sqlite":
        session.exec(
            update(AuditLogHead)
            .where(col(AuditLogHead.id) == LOG_ID)
            .values(tree_size=AuditLogHead.tree_size)
            .execution_options(synchronize_session=False)
        )
    statement = (
        select(AuditLogHead)
        .where(AuditLogHead.id == LOG_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def create_head(session: Session, hash_algorithm: str, now: datetime) -> None:
    """Insert the head row unless another transaction already did (no error either way)."""
    values = {"id": LOG_ID, "hash_algorithm": hash_algorithm, "tree_size": 0,
              "compact_range": "[]", "key_id": None, "created_at": now, "updated_at": now}
    table = AuditLogHead.__table__  # type: ignore[attr-defined]
    if _dialect(session) == "postgresql":
        statement: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    session.exec(statement)


def log_key(session: Session, key_id: str) -> AuditLogKey | None:
    return session.get(AuditLogKey, key_id)


def log_keys(session: Session) -> list[AuditLogKey]:
    return list(session.exec(select(AuditLogKey).order_by(col(AuditLogKey.created_at))))


def add_log_key(session: Session, key_id: str, public_key: str, private_key: str | None,
                origin: str) -> None:
    session.add(AuditLogKey(key_id=key_id, public_key=public_key, private_key=private_key,
                            origin=origin, created_at=datetime.now(UTC)))
    session.flush()


def entries_by_ref(session: Session, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str],
                                                                               AuditEntry]:
    found: dict[tuple[str, str], AuditEntry] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, record_ref in sorted(set(refs)):
        by_kind.setdefault(kind, []).append(record_ref)
    for kind, record_refs in by_kind.items():
        for start in range(0, len(record_refs), QUERY_CHUNK):
            statement = select(AuditEntry).where(
                AuditEntry.kind == kind,
                col(AuditEntry.record_ref).in_(record_refs[start:start + QUERY_CHUNK]),
            )
            for entry in session.exec(statement):
                found[(entry.kind, entry.record_ref)] = entry
    return found


def entry_by_seq(session: Session, seq: int) -> AuditEntry | None:
    return session.get(AuditEntry, seq)


def entry_by_ref(session: Session, kind: str, record_ref: str) -> AuditEntry | None:
    statement = select(AuditEntry).where(AuditEntry.kind == kind,
                                         AuditEntry.record_ref == record_ref)
    return session.exec(statement).first()


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert (Core executemany: no ORM objects for thousands of rows)."""
    if rows:
        session.connection().execute(AuditEntry.__table__.insert(), list(rows))  # type: ignore[attr-defined]


def insert_nodes(session: Session, nodes: Iterable[tuple[NodeKey, bytes]]) -> None:
    rows = [{"level": level, "node_index": index, "hash": value.hex()}
            for (level, index), value in nodes]
    if rows:
        session.connection().execute(AuditNode.__table__.insert(), rows)  # type: ignore[attr-defined]


def fetch_nodes(session: Session, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    """Stored perfect-subtree hashes: level 0 from the entries' leaf hashes, above from nodes."""
    found: dict[NodeKey, bytes] = {}
    leaves = sorted(index for level, index in keys if level == 0)
    inner = sorted(key for key in keys if key[0] > 0)
    for start in range(0, len(leaves), QUERY_CHUNK):
        chunk = leaves[start:start + QUERY_CHUNK]
        rows = session.exec(select(AuditEntry.seq, AuditEntry.leaf_hash)
                            .where(col(AuditEntry.seq).in_(chunk)))
        found.update({(0, seq): bytes.fromhex(leaf) for seq, leaf in rows})
    for start in range(0, len(inner), QUERY_CHUNK):
        # One "level = L AND node_index IN (...)" term per level: both databases use the
        # primary key for each (a row-value IN makes SQLite scan the whole table).
        by_level: dict[int, list[int]] = {}
        for level, index in inner[start:start + QUERY_CHUNK]:
            by_level.setdefault(level, []).append(index)
        terms = [and_(col(AuditNode.level) == level, col(AuditNode.node_index).in_(indices))
                 for level, indices in by_level.items()]
        rows2 = session.exec(
            select(AuditNode.level, AuditNode.node_index, AuditNode.hash).where(or_(*terms))
        )
        found.update({(level, index): bytes.fromhex(value) for level, index, value in rows2})
    return found


def nodes_completed_by(session: Session, start: int, end: int) -> dict[NodeKey, str]:
    """Stored nodes above level 0 whose last leaf is in ``[start, end)``; node ``(L, i)`` ends at
    leaf ``(i + 1) * 2**L - 1``, so level ``L`` holds indices ``start >> L .. (end >> L) - 1``."""
    ranges = []
    level = 1
    while (1 << level) <= end:
        low, high = start >> level, (end >> level) - 1
        if low <= high:
            ranges.append(and_(col(AuditNode.level) == level,
                               col(AuditNode.node_index).between(low, high)))
        level += 1
    if not ranges:
        return {}
    rows = session.exec(select(AuditNode.level, AuditNode.node_index, AuditNode.hash)
                        .where(or_(*ranges)))
    return {(level, index): value for level, index, value in rows}


def count_nodes(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditNode)).one()


def entry_rows_after(session: Session, after_seq: int | None, limit: int) -> list[Any]:
    """The next ``limit`` entries by ``seq`` (keyset pagination; bounded memory)."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    statement = sa_select(table)
    if after_seq is not None:
        statement = statement.where(table.c.seq > after_seq)
    return list(session.connection().execute(statement.order_by(table.c.seq).limit(limit)))


def add_tree_head(session: Session, tree_head: AuditTreeHead) -> AuditTreeHead:
    session.add(tree_head)
    session.flush()
    return tree_head


def tree_heads(session: Session) -> list[AuditTreeHead]:
    """All signed tree heads in publication order."""
    return list(session.exec(select(AuditTreeHead).order_by(col(AuditTreeHead.id))))


def latest_tree_head(session: Session) -> AuditTreeHead | None:
    # Timestamps never decrease with id (publish_tree_head), so id orders heads of one size;
    # this order is served by the tree_size index.
    statement = select(AuditTreeHead).order_by(
        col(AuditTreeHead.tree_size).desc(), col(AuditTreeHead.id).desc()
    )
    return session.exec(statement.limit(1)).first()


def tree_head_of_size(session: Session, tree_size: int) -> AuditTreeHead | None:
    statement = select(AuditTreeHead).where(AuditTreeHead.tree_size == tree_size).order_by(
        col(AuditTreeHead.id).desc())
    return session.exec(statement.limit(1)).first()


def recent_tree_heads(session: Session, limit: int) -> list[AuditTreeHead]:
    statement = select(AuditTreeHead).order_by(
        col(AuditTreeHead.tree_size).desc(), col(AuditTreeHead.id).desc()
    )
    return list(session.exec(statement.limit(limit)))
