"""First load of a dataset file into an empty PostgreSQL table, as one transaction.

``FirstLoad.begin`` locks the table (ACCESS EXCLUSIVE), checks it is still empty, drops its
indexes (primary key and unique constraints included, their definitions kept) and truncates it,
so every batch can then be COPYed with ``FREEZE``; ``commit`` builds the indexes again from the
loaded rows, analyses the table and commits. Measured on person rows (benchmarks/README.md):
the database spends ~4-5 µs a row this way instead of ~12-14 µs maintaining four btrees row by
row, and writes ~40 % less WAL. Rows are written frozen, so no later hint-bit writes or
freezing vacuum rewrites the table.

The price, accepted for a first load only: the file loads all or nothing (a failing batch rolls
the whole file back and a re-run loads it again), readers of the table wait until the commit,
and, as with any ``COPY FREEZE``, a transaction whose snapshot is older than the commit may see
the rows. ``begin`` changes nothing and returns False when the table is not empty once locked,
when a foreign key refers to it, when the lock is not granted within ``LOCK_TIMEOUT`` (a
long reader holds it) or when the database refuses a step (a role that does not own the
table may not drop its indexes); the caller then writes batch by batch as usual. Duplicate
natural keys cannot reach the table (validation removes them within a file and the table is
locked), and should the rebuilt unique index find one anyway, the commit fails and nothing is
loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import psycopg
from psycopg import errors as pg_errors
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.datahub import repository

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "2s"
INDEX_BUILD_MEMORY = "256MB"  # per index build, only for this transaction


@dataclass(frozen=True)
class _Index:
    """An index of the table as it was: a plain index, or the index of a constraint."""

    name: str  # qualified, quoted index name (or the constraint name)
    definition: str  # CREATE INDEX statement, or the constraint definition
    constraint: bool

    def drop(self, table: str) -> str:
        if self.constraint:
            return f'ALTER TABLE "{table}" DROP CONSTRAINT "{self.name}"'
        return f"DROP INDEX {self.name}"

    def create(self, table: str) -> str:
        if self.constraint:
            return f'ALTER TABLE "{table}" ADD CONSTRAINT "{self.name}" {self.definition}'
        return self.definition


_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
       c.conname, pg_get_constraintdef(c.oid), c.contype
FROM pg_index AS i
LEFT JOIN pg_constraint AS c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
WHERE i.indrelid = %s::regclass
ORDER BY i.indexrelid
"""


class FirstLoad:
    """One dataset's first load (see the module docstring). Not thread-safe: one thread at a
    time (the import hands it from the main thread to its single writer and back)."""

    def __init__(self, engine: Engine, dataset: str) -> None:
        self.dataset = dataset
        self.table = repository.table_name(dataset)
        self.session = Session(engine, expire_on_commit=False)
        self._indexes: list[_Index] = []
        self._open = False

    def begin(self) -> bool:
        """Take the table for a first load; False (and nothing changed) if it cannot be, also
        when the database refuses a step (say the importing role may not drop indexes)."""
        try:
            return self._take_table()
        except psycopg.Error as error:
            log.warning("first load of %s falls back to batch writes: %s", self.dataset,
                        type(error).__name__)
            self.session.rollback()
            return False

    def _take_table(self) -> bool:
        with self._cursor() as cursor:
            if not self._lock(cursor) or self._held_or_referenced(cursor):
                self.session.rollback()
                return False
            cursor.execute(_INDEXES, (self.table,))
            for index_name, index_def, constraint, constraint_def, kind in cursor.fetchall():
                if constraint is None:
                    self._indexes.append(_Index(index_name, index_def, constraint=False))
                elif kind in ("p", "u"):
                    self._indexes.append(_Index(constraint, constraint_def, constraint=True))
                # an index of another kind of constraint (exclusion) stays and is maintained
            for index in self._indexes:
                cursor.execute(index.drop(self.table))
            cursor.execute(f'TRUNCATE "{self.table}"')  # empty already; lets COPY use FREEZE
        self._open = True
        return True

    def _lock(self, cursor: Any) -> bool:
        try:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(f'LOCK TABLE "{self.table}" IN ACCESS EXCLUSIVE MODE')
        except pg_errors.LockNotAvailable:
            return False
        cursor.execute("SET LOCAL lock_timeout = DEFAULT")
        return True

    def _held_or_referenced(self, cursor: Any) -> bool:
        cursor.execute(
            f'SELECT EXISTS (SELECT 1 FROM "{self.table}") OR EXISTS '
            "(SELECT 1 FROM pg_constraint WHERE confrelid = %s::regclass)",
            (self.table,),
        )
        row = cursor.fetchone()
        return bool(row and row[0])

    def write(self, rows: pl.DataFrame, *, batch_id: int, now: datetime) -> int:
        """COPY one batch of storage rows (FREEZE); returns how many were written."""
        if rows.is_empty():
            return 0
        return repository.copy_rows(self.session, self.dataset, rows, batch_id, now, freeze=True)

    def commit(self) -> None:
        """Build the indexes again, analyse the table and commit."""
        with self._cursor() as cursor:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
            for index in self._indexes:
                cursor.execute(index.create(self.table))
            cursor.execute(f'ANALYZE "{self.table}"')
        self.session.commit()
        self._open = False

    def close(self) -> None:
        """Roll back whatever was not committed, and release the connection."""
        if self._open:
            self.session.rollback()
            self._open = False
        self.session.close()

    def _cursor(self) -> Any:
        return repository.driver_connection(self.session).cursor()
