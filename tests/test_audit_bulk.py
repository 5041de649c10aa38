"""Bulk appends at the sizes the sweep uses, on both databases (``COPY`` on PostgreSQL):
batches in one transaction each, repeats within and across batches logged once, a conflicting
repeat refusing the whole batch, concurrent bulk appenders, and tree heads, inclusion and
consistency proofs that match a reference computed from the leaves."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.audit import merkle, service
from app.audit.service import AuditConflict
from app.audit.verification import verify_log
from app.db import session_scope
from tests.audit_helpers import decision

BATCH = 700  # well above the PostgreSQL COPY threshold


def _leaves(engine: Engine) -> list[bytes]:
    hasher = merkle.hasher_for("sha256")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, data FROM audit_entry ORDER BY seq")).all()
    assert [seq for seq, _ in rows] == list(range(len(rows)))
    return [hasher.leaf(data.encode()) for _, data in rows]


def test_batches_log_each_record_once_and_prove_against_the_reference(engine: Engine) -> None:
    first = [("decision", decision(n)) for n in range(BATCH)]
    with session_scope(engine) as session:
        logged = service.append_many(session, [*first, ("decision", decision(3))])
        service.publish_tree_head(session)
    assert [e.seq for e in logged[:BATCH]] == list(range(BATCH)) and all(
        e.created for e in logged[:BATCH])
    assert (logged[-1].seq, logged[-1].created) == (3, False)
    second = [("decision", decision(n)) for n in range(BATCH - 100, 2 * BATCH)]
    with session_scope(engine) as session:
        again = service.append_many(session, second)
        head = service.publish_tree_head(session)
    assert [e.created for e in again[:100]] == [False] * 100
    assert [e.seq for e in again[:100]] == list(range(BATCH - 100, BATCH))
    assert [e.seq for e in again[100:]] == list(range(BATCH, 2 * BATCH))
    assert head.tree_size == 2 * BATCH

    hasher = merkle.hasher_for("sha256")
    leaves = _leaves(engine)
    assert head.root_hash == merkle.root_from_leaf_hashes(hasher, leaves).hex()
    with session_scope(engine) as session:
        for seq in (0, BATCH - 1, BATCH, 2 * BATCH - 1, 1023):
            proof = service.inclusion_proof(session, str(seq))
            assert merkle.verify_inclusion(hasher, seq, head.tree_size, leaves[seq],
                                           [bytes.fromhex(p) for p in proof.inclusion_path],
                                           bytes.fromhex(head.root_hash))
        assert service.consistency_proof(session, BATCH, 2 * BATCH).verified
        assert verify_log(session).ok


def test_a_conflict_anywhere_in_a_batch_writes_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        service.append_many(session, [("decision", decision(n)) for n in range(BATCH)])
    changed = [("decision", decision(n)) for n in range(BATCH, 2 * BATCH)]
    changed.append(("decision", decision(5, amount_fen=1)))  # already logged with 7500
    with pytest.raises(AuditConflict), session_scope(engine) as session:
        service.append_many(session, changed)
    twice = [("decision", decision(n)) for n in range(BATCH, 2 * BATCH)]
    twice.append(("decision", decision(BATCH + 1, amount_fen=2)))  # differs within the batch
    with pytest.raises(AuditConflict), session_scope(engine) as session:
        service.append_many(session, twice)
    assert len(_leaves(engine)) == BATCH


def test_concurrent_bulk_appenders_serialise(engine: Engine) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def worker(number: int) -> None:
        try:
            start.wait()
            for part in range(2):
                base = 10_000 * (number + 1) + part * BATCH
                shared = [("decision", decision(n)) for n in range(50)]
                own = [("decision", decision(n)) for n in range(base, base + BATCH)]
                with session_scope(engine) as session:
                    service.append_many(session, own + shared)
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert len(_leaves(engine)) == 3 * 2 * BATCH + 50
    with session_scope(engine) as session:
        service.publish_tree_head(session)
        report = verify_log(session)
    assert report.ok, report.findings
