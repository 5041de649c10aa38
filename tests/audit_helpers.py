"""Shared helpers of the audit log tests: realistic payloads, filling a log, and tampering with
stored rows the way an attacker with database access would (past the append-only triggers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from app.audit import service
from app.db import session_scope


def decision(number: int, amount_fen: int = 7500) -> dict[str, Any]:
    return {
        "record_id": f"D-{number:06d}",
        "policy_id": "longevity-allowance",
        "policy_version_hash": "sha256:" + "ab" * 32,
        "subject_kind": "person",
        "subject_key": f"{number:032x}",
        "as_of": date(2025, 11, 22),
        "parameters": {"min_age": 70, "tiers_fen": {"70-79": 7500, "80-89": 15000}},
        "input_snapshot_hash": f"{number:064x}",
        "engine_version": "0.1.0",
        "result": {"eligible": True, "tier": "70-79", "amount_fen": amount_fen},
    }


def fill(engine: Engine, count: int, publish_at: tuple[int, ...] = (), start: int = 0) -> None:
    """Append decisions ``start .. start + count - 1`` (to a log of ``start`` entries), one
    transaction each, publishing a tree head whenever the log reaches a size in ``publish_at``."""
    for number in range(start, start + count):
        with session_scope(engine) as session:
            service.append(session, "decision", decision(number))
        if number + 1 in publish_at:
            with session_scope(engine) as session:
                service.publish_tree_head(session)


@contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """A connection that can change audit rows: triggers off (PostgreSQL: for this transaction
    only; SQLite: dropped, each SQLite test has its own database file)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            names = connection.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_%'"
            )).scalars().all()
            for name in names:
                connection.execute(text(f'DROP TRIGGER "{name}"'))
        yield connection
