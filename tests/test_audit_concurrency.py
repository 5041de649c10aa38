"""Concurrent appenders on the real databases: several threads, each with its own connection and
transactions, append (singly and in batches), race to log the same records, and publish tree
heads at the same time. The result is one log with sequence numbers 0..n-1, no gap, no
duplicate, every shared record exactly once, and it verifies."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.audit import service
from app.audit.verification import verify_log
from app.db import session_scope
from tests.audit_helpers import decision

WORKERS = 6
OWN_PER_WORKER = 24
SHARED = 10


def _worker(engine: Engine, worker: int, start: threading.Barrier, errors: list[BaseException]
            ) -> None:
    try:
        start.wait()
        own = [decision(1000 * (worker + 1) + n) for n in range(OWN_PER_WORKER)]
        for position, payload in enumerate(own[: OWN_PER_WORKER // 2]):
            with session_scope(engine) as session:
                service.append(session, "decision", payload)
                # Every worker also races to log the same shared records.
                service.append(session, "decision", decision(position % SHARED))
        with session_scope(engine) as session:
            service.append_many(session, [("decision", p) for p in own[OWN_PER_WORKER // 2:]])
        with session_scope(engine) as session:
            service.publish_tree_head(session, only_if_grown=True)
    except BaseException as error:  # reported by the test thread
        errors.append(error)


def test_concurrent_appenders_make_one_consistent_log(engine: Engine) -> None:
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_worker, args=(engine, worker, start, errors))
               for worker in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    with session_scope(engine) as session:
        service.publish_tree_head(session)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT seq, record_ref, appended_at FROM audit_entry ORDER BY seq")).all()
        size = connection.execute(text("SELECT tree_size FROM audit_log_head")).scalar_one()
    expected = WORKERS * OWN_PER_WORKER + SHARED
    assert [seq for seq, _, _ in rows] == list(range(expected))
    times = [appended_at for _, _, appended_at in rows]
    assert times == sorted(times)  # taken under the lock: never backwards along the log
    assert size == expected
    refs = Counter(ref for _, ref, _ in rows)
    assert max(refs.values()) == 1
    assert all(refs[f"D-{n:06d}"] == 1 for n in range(SHARED))

    with session_scope(engine) as session:
        report = verify_log(session)
    assert report.ok, report.findings
    assert report.tree_heads_checked >= 2
