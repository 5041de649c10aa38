"""Audit log benchmark: append rate, and proof and publish times on a large log.

    python benchmarks/audit_log.py                       # 1,000,000 entries, SQLite temp file
    python benchmarks/audit_log.py --entries 500000 --batch 100000 \
        --database-url postgresql://postgres@127.0.0.1:5432/bench   # the sweep's bulk case

Builds a fresh log of realistic decision entries (batched appends, ``--batch`` per transaction;
on PostgreSQL also the CPU time of the serving backend, read from /proc),
then measures single appends (one transaction each, the way a grant is logged), signed tree head
publication, inclusion proofs of random entries and consistency proofs against an earlier head,
all through the service and the real database. ``--verify`` also times a whole ``audit verify``.
A PostgreSQL URL names a database this script drops and recreates. Figures on a shared machine
are indicative.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("MIANSHEN_HOME", tempfile.mkdtemp(prefix="mianshen-bench-"))

from sqlalchemy import text

from app import migrations
from app.audit import merkle, service
from app.audit.verification import verify_log
from app.db import engine_for, session_scope

SCRATCH = os.environ["MIANSHEN_HOME"]  # holds the SQLite database; removed at the end if ours


def decision(number: int) -> dict[str, Any]:
    return {
        "record_id": f"D-{number:09d}", "policy_id": "longevity-allowance",
        "policy_version_hash": "sha256:" + "ab" * 32, "subject_kind": "person",
        "subject_key": f"{number:032x}", "as_of": date(2025, 11, 22),
        "parameters": {"min_age": 70, "tiers_fen": {"70-79": 7500, "80-89": 15000}},
        "input_snapshot_hash": f"{number:064x}", "engine_version": "0.1.0",
        "result": {"eligible": True, "tier": "70-79", "amount_fen": 7500},
    }


def fresh_database(url: str | None) -> str:
    if url is None:
        return f"sqlite:///{os.environ['MIANSHEN_HOME']}/audit.db"
    if url.startswith("postgresql"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    return url


def backend_pid(session: Any) -> int | None:
    """The PostgreSQL backend serving this session (same machine: its CPU time is readable)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def backend_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a local process, from /proc (0 when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(times) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def main() -> None:
    try:
        run()
    finally:
        if Path(SCRATCH).name.startswith("mianshen-bench-"):
            shutil.rmtree(SCRATCH, ignore_errors=True)


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000, help="entries per transaction")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--hash", choices=sorted(merkle.HASHERS), default="sha256")
    parser.add_argument("--verify", action="store_true", help="also time a full audit verify")
    args = parser.parse_args()

    url = fresh_database(args.database_url)
    migrations.upgrade(url)
    engine = engine_for(url)
    with session_scope(engine) as session:
        service.create_log(session, args.hash)
    print(f"database {engine.dialect.name}, hash {args.hash}, {args.entries:,} entries")

    half = args.entries // 2
    print(f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f}")
    start, cpu_start, server_cpu = time.perf_counter(), time.process_time(), 0.0
    for first in range(0, args.entries, args.batch):
        items = [("decision", decision(n)) for n in
                 range(first, min(first + args.batch, args.entries))]
        with session_scope(engine) as session:
            backend = backend_pid(session)
            before = backend_cpu_seconds(backend)
            service.append_many(session, items)
            server_cpu += backend_cpu_seconds(backend) - before
        if first < half <= first + args.batch:
            with session_scope(engine) as session:
                service.publish_tree_head(session)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"batched append ({args.batch:,} per transaction): "
          f"{args.entries / elapsed:,.0f} entries/s ({elapsed:.1f} s wall; this process used "
          f"{cpu:.1f} s CPU = {args.entries / cpu:,.0f} entries per CPU second"
          + (f"; the PostgreSQL backend {server_cpu:.1f} s CPU" if server_cpu else "") + ")")

    singles = 500
    counter = iter(range(args.entries, args.entries + singles))

    def append_one() -> None:
        with session_scope(engine) as session:
            service.append(session, "decision", decision(next(counter)))

    single_times = timed(append_one, singles)
    print(f"single append, own transaction, at {args.entries:,}: "
          f"{singles / sum(single_times):,.0f} entries/s ({describe(single_times)})")

    def publish() -> None:
        with session_scope(engine) as session:
            service.publish_tree_head(session)

    print(f"publish signed tree head: {describe(timed(publish, 20))}")
    size = args.entries + singles
    rng = random.Random(7)

    def prove() -> None:
        with session_scope(engine) as session:
            service.inclusion_proof(session, str(rng.randrange(size)))

    print(f"inclusion proof at {size:,} (build + self-check): {describe(timed(prove, 200))}")
    with engine.connect() as connection:
        first_size, new_size = connection.execute(
            text("SELECT MIN(tree_size), MAX(tree_size) FROM audit_tree_head")).one()

    def consistency() -> None:
        with session_scope(engine) as session:
            assert service.consistency_proof(session, first_size, new_size).verified

    print(f"consistency proof {first_size:,} -> {new_size:,}: {describe(timed(consistency, 50))}")
    if args.verify:
        start = time.perf_counter()
        with session_scope(engine) as session:
            report = verify_log(session)
        elapsed = time.perf_counter() - start
        print(f"audit verify of {report.entries_checked:,} entries: {elapsed:.1f} s "
              f"({report.entries_checked / elapsed:,.0f} entries/s), ok={report.ok}")


if __name__ == "__main__":
    main()
