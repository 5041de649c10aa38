"""Data-key rotation without downtime: re-encrypt every encrypted column under the current key,
in small committed batches, while the application keeps reading and writing.

How a rotation goes (``docs/privacy.md``): (1) add the new key to ``MIANSHEN_DATA_KEYS`` after
the current one everywhere (every process can now decrypt it); (2) move it to the front (new
writes use it; old ciphertext still decrypts, because every key listed decrypts); (3) run
``mianshen keys rotate-pii``: each batch reads rows whose ciphertext carries another key id,
re-encrypts them and writes them back with a compare-and-set (``WHERE col = old``), so a row a
request changed meanwhile is left alone (it already carries the new key) and the run can be
stopped and restarted at any time; (4) ``mianshen keys status`` shows no row under the old
key id: remove the old key.

The encrypted columns are found from the schema by name (``pii``, ``*_enc``, ``raw`` of the
quarantine, ``private_key`` of signing keys), so a table added later is rotated too. A value
whose prefix is no configured key id is counted and left untouched (never destroyed).

Blind-index key rotation is not offered: subject keys are the keyed hash of the ID number and
are the pseudonymous identity in every table *and* in the append-only, signed audit log, which
cannot be rewritten; rotating that key needs a new identity scheme (see ``docs/privacy.md``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import app.models_registry  # noqa: F401  (every table in the metadata)
from app.db import session_scope
from app.privacy import Keyring, keyring

ENCRYPTED_NAMES = {"pii", "raw", "private_key"}


@dataclass(frozen=True)
class EncryptedColumn:
    table: Table
    column: str

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column}"

    @property
    def key_column(self) -> str:
        return next(iter(self.table.primary_key.columns)).name


@dataclass
class RotationReport:
    active_kid: str
    rewritten: Counter[str] = field(default_factory=Counter)  # per table.column
    skipped_changed: int = 0  # changed by someone else between read and write: already fine
    unknown_key: Counter[str] = field(default_factory=Counter)  # prefix of no configured key


def encrypted_columns() -> list[EncryptedColumn]:
    found = []
    for table in SQLModel.metadata.sorted_tables:
        if len(table.primary_key.columns) != 1:
            continue
        for column in table.columns:
            if column.name in ENCRYPTED_NAMES or column.name.endswith("_enc"):
                found.append(EncryptedColumn(table, column.name))
    return found


def key_status(engine: Engine) -> dict[str, Counter[str]]:
    """Rows per key id, per encrypted column (``kid`` is the text before the first dot)."""
    status: dict[str, Counter[str]] = {}
    with engine.connect() as connection:
        for target in encrypted_columns():
            value = target.table.c[target.column]
            kid = func.substr(value, 1, func.instr(value, ".") - 1) \
                if connection.dialect.name == "sqlite" else func.split_part(value, ".", 1)
            rows = connection.execute(select(kid, func.count()).where(value.is_not(None))
                                      .group_by(kid))
            status[target.label] = Counter({str(k): int(n) for k, n in rows})
    return status


def rotate(engine: Engine, *, batch_size: int = 1000,
           progress: Callable[[str, int], None] | None = None,
           ring: Keyring | None = None) -> RotationReport:
    """Re-encrypt every value not under the active key; one transaction per batch."""
    ring = ring or keyring()
    report = RotationReport(ring.active_kid)
    for target in encrypted_columns():
        after = None
        while True:
            after, done = _rotate_batch(engine, target, ring, after, batch_size, report)
            if progress and done:
                progress(target.label, done)
            if after is None:
                break
    return report


def _rotate_batch(engine: Engine, target: EncryptedColumn, ring: Keyring, after: object,
                  batch_size: int, report: RotationReport) -> tuple[object, int]:
    table, pk = target.table, target.key_column
    value = table.c[target.column]
    prefix = ring.active_kid + "."
    statement = select(table.c[pk], value).where(
        value.is_not(None), func.substr(value, 1, len(prefix)) != prefix)
    if after is not None:
        statement = statement.where(table.c[pk] > after)
    statement = statement.order_by(table.c[pk]).limit(batch_size)
    with session_scope(engine) as session:
        connection = session.connection()
        rows = list(connection.execute(statement))
        changes = []
        for key, token in rows:
            kid = str(token).partition(".")[0]
            if kid not in ring.ciphers:
                report.unknown_key[target.label] += 1
                continue
            changes.append({"pk": key, "old": token, "new": ring.encrypt(ring.decrypt(token))})
        if changes:
            cas = (update(table).where(table.c[pk] == bindparam("pk"), value == bindparam("old"))
                   .values({target.column: bindparam("new")}))
            written = connection.execute(cas, changes).rowcount
            written = written if written is not None and written >= 0 else len(changes)
            report.rewritten[target.label] += written
            report.skipped_changed += len(changes) - written
    last = rows[-1][0] if len(rows) == batch_size else None
    return last, len(changes)
