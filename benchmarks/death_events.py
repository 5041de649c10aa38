"""Benchmark: death events arriving at 200/s → the person's grants suspended (committed), on a
city already held in PostgreSQL (e.g. one kept by ``benchmarks/sweep.py --keep``); prints
p50 / p99 / max latency from arrival to commit (goal p99 <= 1 s) with the load average.

It first adds ``--events`` persons aged 75 with ID numbers of its own (sequence numbers 500-999
of their birth dates, which the synthetic registries do not reach at that age) and runs an
incremental sweep so they hold granted benefits (the allowance and the e-certificate cards); a
re-run adds more.
Then a producer thread emits one death per person at ``--rate``; consumers take what has
arrived (waiting up to ``--window-ms`` for more, at most 500) and ingest it as one batch:
``--via direct`` calls ``ingest_batch`` (the path of ``events ingest``), ``--via http`` POSTs it
to ``/api/v1/events`` on a uvicorn server on 127.0.0.1 (a department principal with the
``events:push`` scope stands in for API-key sign-in). The notification and certificate hooks
are installed, so each death also cancels pending SMS and revokes e-certificates, and every
suspension is appended to the audit log. Statistics are refreshed (``ANALYZE``) before the
measurement, as autovacuum keeps them on a production server: with the statistics of an empty
grant table the planner scans whole state indexes.

    python benchmarks/sweep.py --persons 1000000 --enterprises 100000 --database X --keep
    python benchmarks/death_events.py --database X --events 3000 --rate 200
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_MARK = "b" * 32  # row_hash of the persons this benchmark adds


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", required=True, help="a migrated city database")
    parser.add_argument("--events", type=int, default=3_000, help="deaths to send")
    parser.add_argument("--rate", type=float, default=200.0, help="deaths per second")
    parser.add_argument("--consumers", type=int, default=1, help="ingesting threads")
    parser.add_argument("--window-ms", type=float, default=20.0)
    parser.add_argument("--via", choices=("direct", "http"), default="direct")
    parser.add_argument("--as-of", default=None, help="business date (default: the last sweep's)")
    return parser.parse_args()


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def add_elderly(engine: Any, count: int, as_of: date) -> list[str]:
    """``count`` new persons aged 75, local, with a mobile; returns their ID numbers."""
    from sqlalchemy import func, insert, select
    from stdnum.cn import ric

    from app.datahub.models import Person
    from app.privacy import keyring

    ring, now, table = keyring(), datetime.now(UTC), Person.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        held = connection.execute(select(func.count()).select_from(table).where(
            table.c.row_hash == BENCH_MARK)).scalar_one()
        numbers, rows = [], []
        for n in range(held, held + count):
            birth = date(as_of.year - 75, 1, 1) + timedelta(days=n // 500 % 300)
            body = f"440600{birth:%Y%m%d}{n % 500 + 500:03d}"
            number = body + ric.calc_check_digit(body + "0")
            numbers.append(number)
            rows.append({"source_dept": "public_security", "as_of": as_of, "pii": None,
                         "row_hash": BENCH_MARK, "updated_at": now,
                         "subject_key": ring.subject_key(number), "sex": "F",
                         "birth_date": birth, "region_code": "440604",
                         "mobile_index": ring.mobile_index(f"139{n:08d}"), "status": "active"})
        connection.execute(insert(table), rows)
    return numbers


def death(run: str, index: int, number: str, day: date) -> dict[str, Any]:
    return {"event_id": f"BENCH-{run}-{index}", "kind": "death", "source_dept": "health",
            "occurred_on": day.isoformat(), "record": {
                "id_number": number, "date_of_death": day.isoformat(),
                "source_kind": "hospital", "as_of": day.isoformat()}}


def ingester(engine: Any, via: str, as_of: date) -> tuple[Any, Any]:
    """A function ingesting one batch (returns the count accepted) and a closer."""
    from eligibility.events.service import ingest_batch

    if via == "direct":
        def direct(events: list[dict[str, Any]]) -> int:
            return ingest_batch(engine, list(enumerate(events)), as_of)[0].accepted

        return direct, lambda: None
    import httpx

    from app.auth.deps import current_principal
    from app.auth.principal import Principal
    from app.main import create_app
    from tests.sms_support import ServedApp

    api = create_app()
    api.state.engine = engine
    api.dependency_overrides[current_principal] = lambda: Principal(
        kind="department", id="bench", roles=frozenset({"events:push"}), department="health")
    served = ServedApp(api).__enter__()
    client = httpx.Client(base_url=served.url, timeout=60)

    def http(events: list[dict[str, Any]]) -> int:
        response = client.post("/api/v1/events", json={"events": events})
        response.raise_for_status()
        return int(response.json()["accepted"])

    def close() -> None:
        client.close()
        served.__exit__(None, None, None)

    return http, close


def measure(args: argparse.Namespace, engine: Any, numbers: list[str], as_of: date) -> list[float]:
    arrivals: queue.Queue[tuple[float, dict[str, Any]] | None] = queue.Queue()
    latencies: list[float] = []
    lock = threading.Lock()
    ingest, close = ingester(engine, args.via, as_of)
    window = args.window_ms / 1000

    def consume() -> None:
        done = False
        while not done:
            item = arrivals.get()
            if item is None:
                arrivals.put(None)  # leave the end marker for the other consumers
                break
            items, deadline = [item], time.perf_counter() + window
            while len(items) < 500:
                try:
                    item = arrivals.get(timeout=max(0.0, deadline - time.perf_counter()))
                except queue.Empty:
                    break
                if item is None:
                    done = True
                    break
                items.append(item)
            if done:
                arrivals.put(None)  # leave the end marker for the other consumers
            accepted = ingest([event for _, event in items])
            finished = time.perf_counter()
            assert accepted == len(items), (accepted, len(items))
            with lock:
                latencies.extend(finished - arrived for arrived, _ in items)

    threads = [threading.Thread(target=consume) for _ in range(args.consumers)]
    for thread in threads:
        thread.start()
    run, start = datetime.now(UTC).strftime("%Y%m%d%H%M%S"), time.perf_counter()
    for index, number in enumerate(numbers):
        time.sleep(max(0.0, start + index / args.rate - time.perf_counter()))
        arrivals.put((time.perf_counter(), death(run, index, number, as_of)))
    arrivals.put(None)
    for thread in threads:
        thread.join()
    close()
    return sorted(latencies)


def main() -> None:
    args = parse()
    url = args.admin_url.rsplit("/", 1)[0] + f"/{args.database}"
    os.environ["MIANSHEN_DATABASE_URL"] = url
    os.environ.pop("MIANSHEN_REDIS_URL", None)
    from sqlalchemy import text

    from app import migrations
    from app.db import engine_for
    from app.wiring import install_hooks
    from eligibility.sweeps.service import run_sweep

    migrations.upgrade(url)
    engine = engine_for(url)
    install_hooks()
    with engine.connect() as connection:
        last = connection.execute(text(
            "SELECT max(as_of) FROM sweep_run WHERE status = 'done'")).scalar()
    as_of = date.fromisoformat(args.as_of) if args.as_of else (last or date(2025, 11, 3))
    print(f"database {args.database}; as of {as_of}; via {args.via}; "
          f"load average {load_average()}", flush=True)
    numbers = add_elderly(engine, args.events, as_of)
    started = time.perf_counter()
    report = run_sweep(as_of, engine=engine, distributed=False)
    print(f"added {len(numbers):,} persons aged 75; {report.mode} sweep "
          f"{time.perf_counter() - started:.1f} s {dict(report.counts)}", flush=True)
    with engine.connect() as connection:  # as autovacuum keeps them on a production server
        connection.execute(text("ANALYZE"))
        connection.commit()
    started = time.perf_counter()
    latencies = measure(args, engine, numbers, as_of)
    seconds = time.perf_counter() - started

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    with engine.connect() as connection:
        suspended = connection.execute(text(
            "SELECT count(*) FROM grant_event WHERE reason = 'death'")).scalar_one()
    print(f"{len(latencies):,} deaths at {args.rate:.0f}/s in {seconds:.1f} s "
          f"({len(latencies) / seconds:.0f}/s absorbed), {suspended:,} death suspensions held")
    print(f"death → suspended: p50 {pct(0.5):.0f} ms, p99 {pct(0.99):.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms (goal p99 <= 1000 ms); "
          f"load average {load_average()}")
    engine.dispose()


if __name__ == "__main__":
    main()
