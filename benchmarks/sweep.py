"""Benchmark of the auto-grant pipeline on PostgreSQL; prints its figures.

1. full sweep of N persons and M enterprises, decisions, grants and ledger persisted (goal for
   1M + 100k: <= 60 s);
2. incremental nightly sweep with 1 % of the persons changed (goal <= 5 s);
3. death events arriving at 200/s: time from arrival to the person's grants being suspended
   (committed), p50 / p99 / max (goal p99 <= 1 s);
and the peak resident memory of the process. ``--persons 10000000 --enterprises 1000000`` is the
large run (goal <= 10 min, <= 8 GB).

Data: with ``--data synth`` the city comes from the data platform's synthesiser and import
(``app.datahub.synth`` / ``service``, another branch); ``--data direct`` (default while those are
not merged) COPYs a synthetic registry straight into the tables: valid ID numbers (so events can
name people), an age pyramid, 户籍 mostly in 440604, a few without mobile.

Evaluation: ``--backend`` names the evaluation backend (``module:attribute``); the default is
the production one (the policy engine). Until the engine is merged, run with
``--backend tests.support.evaluator:backend`` (a small Polars evaluator of four test policies);
figures are then indicative of the pipeline, not of the real policy catalog.

    python benchmarks/sweep.py --persons 1000000 --enterprises 100000 \\
        --backend tests.support.evaluator:backend
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import resource
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sweep_support import load_average, server_cpu_seconds, server_cpu_used  # noqa: E402


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="mianshen_bench_sweep")
    parser.add_argument("--backend", default=None, help="evaluation backend module:attribute")
    parser.add_argument("--data", choices=("direct", "synth"), default="synth")
    parser.add_argument("--events", type=int, default=2_000, help="death events to send")
    parser.add_argument("--rate", type=float, default=200.0, help="death events per second")
    parser.add_argument("--consumers", type=int, default=4, help="event-processing threads")
    parser.add_argument("--as-of", default=None,
                        help="sweep date (default: the synthetic city's reference date, "
                             "or 2025-11-03 with --data direct)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--city-db", default=None,
        help="with --data synth: template database holding the imported city, built once and "
             "cloned for every run (default: DATABASE_city_PERSONS_ENTERPRISES)")
    parser.add_argument("--workers", type=int, default=0,
                        help="run the sweeps on this many Celery worker processes (0: in process)")
    parser.add_argument("--shards", type=int, default=8, help="shards per subject kind "
                        "(with --workers)")
    parser.add_argument("--hooks", action="store_true", help="workers install the SMS and "
                        "e-certificate hooks, as production workers do (not counted by default)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5",
                        help="broker for --workers")
    parser.add_argument("--full-only", action="store_true",
                        help="stop after the full sweep (no incremental sweep, no deaths)")
    parser.add_argument("--rebuild-city", action="store_true",
                        help="build the city template again even if it exists")
    parser.add_argument("--build-only", action="store_true",
                        help="with --data synth: build the city template, then stop")
    return parser.parse_args()


def peak_memory_mb() -> float:
    """Peak RSS of this process, or of the largest worker with --workers."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return max([own, *(WORKERS.peak_memory_mb() if WORKERS else [])])


def peak_memory_text() -> str:
    """Peak RSS of this process and of each worker (the figure issue 4 bounds per process)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = WORKERS.peak_memory_mb() if WORKERS else []
    text = f"peak memory: client {own:,.0f} MB"
    return text + (f", workers {', '.join(f'{w:,.0f}' for w in workers)} MB" if workers else "")


def create_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def id_number(birth: date, sequence: int) -> str:
    from stdnum.cn import ric

    body = f"440600{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def load_direct(url: str, persons: int, enterprises: int, as_of: date) -> list[str]:
    """COPY a registry and enterprises straight into storage; returns the persons' ID numbers."""
    from stdnum.cn import uscc

    from app.privacy import keyring

    ring = keyring()
    rng = random.Random(7)
    now = datetime.now(UTC) - timedelta(days=1)  # loaded yesterday, before any sweep
    ids: list[str] = []
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY person (source_dept, as_of, pii, row_hash, updated_at, subject_key, sex, "
            "birth_date, region_code, mobile_index, status) FROM STDIN"
        ) as copy:
            used: dict[date, int] = {}
            for n in range(persons):
                age = min(int(rng.expovariate(1 / 38)), 104)
                birth = as_of - timedelta(days=age * 365 + rng.randrange(365))
                while used.get(birth, 0) >= 1000:  # 1,000 sequence numbers per birth date
                    birth -= timedelta(days=1)
                used[birth] = used.get(birth, 0) + 1
                number = id_number(birth, used[birth] - 1)
                ids.append(number)
                region = "440604" if rng.random() < 0.85 else "440605"
                mobile = None if rng.random() < 0.03 else ring.mobile_index(f"138{n:08d}")
                copy.write_row(("public_security", as_of, None, "0" * 32, now,
                                ring.subject_key(number), "MF"[n % 2], birth, region, mobile,
                                "active"))
        with cursor.copy(
            "COPY enterprise (source_dept, as_of, pii, row_hash, updated_at, uscc, name, kind, "
            "industry_code, size_class, region_code, registration_date, status, legal_rep_key) "
            "FROM STDIN"
        ) as copy:
            for n in range(enterprises):
                body = f"91440604{n:09d}"
                code = body + uscc.calc_check_digit(body + "0")
                copy.write_row(("market_regulation", as_of, None, "0" * 32, now, code,
                                f"企业{n}", "enterprise", "C13",
                                ("micro", "small", "medium", "large")[n % 4],
                                "440604" if n % 5 else "440605", date(2015, 1, 1) +
                                timedelta(days=n % 3000), "active", "0" * 32))
        connection.commit()
        cursor.execute("ANALYZE")
    return ids


def city_dir(persons: int, enterprises: int) -> Path:
    home = Path(os.environ.get("MIANSHEN_HOME", "var"))
    return home / f"bench-city-{persons}-{enterprises}"


class _DayBefore(datetime):
    """The importer's clock, a day back: rows are stamped as loaded yesterday."""

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) - timedelta(days=1)


def load_synth(url: str, persons: int, enterprises: int, as_of: date) -> None:
    """Generate the synthetic city and import it as if yesterday (loaded before any sweep, so
    the incremental sweep sees only what the benchmark changes). The importer's clock is set a
    day back rather than every row updated afterwards: at 10M persons that UPDATE rewrote every
    table of the city (tens of millions of rows, twice the disk until a VACUUM FULL)."""
    from app.datahub import service, synth
    from app.db import engine_for

    city = city_dir(persons, enterprises)
    if not (city / "_manifest.json").exists():  # written last: the city is complete
        synth.generate_city(city, persons=persons, enterprises=enterprises, seed=1, as_of=as_of)
    service.datetime = _DayBefore  # type: ignore[misc]
    try:
        service.import_path(engine_for(url), city)
    finally:
        service.datetime = datetime  # type: ignore[misc]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def city_ids(persons: int, enterprises: int) -> Iterator[str]:
    """ID numbers of the city's active residents (for death events), read lazily from its
    registry file: at 10M persons a list of them all would be the client's largest object."""
    import csv

    registry = city_dir(persons, enterprises) / "person.csv"
    if not registry.exists():
        return
    with registry.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["status"] == "active":
                yield row["id_number"]


def clone_database(admin_url: str, template: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None


WORKERS = None  # the WorkerPool of --workers, whose CPU counts as the client's


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + (WORKERS.cpu_seconds() if WORKERS else 0.0)


def timed(label: str, function, *args, **kwargs):
    database = os.environ.get("MIANSHEN_DATABASE_URL", "/").rsplit("/", 1)[1]
    backends = server_cpu_seconds(database)
    start, client = time.perf_counter(), client_cpu_seconds()
    value = function(*args, **kwargs)
    seconds = time.perf_counter() - start
    client = client_cpu_seconds() - client
    server = server_cpu_used(backends, server_cpu_seconds(database))
    print(f"{label}: {seconds:.1f} s (CPU: client {client:.1f} s, PostgreSQL {server:.1f} s; "
          f"{peak_memory_text()}; load average {load_average()})", flush=True)
    return value, seconds


def touch_one_percent(url: str) -> int:
    with psycopg.connect(url) as connection:
        changed = connection.execute(
            "UPDATE person SET region_code = CASE region_code WHEN '440604' THEN '440605' "
            "ELSE '440604' END, updated_at = now() + interval '1 second' "
            "WHERE id % 100 = 7"
        ).rowcount
        connection.commit()
    return changed


def granted_ids(engine, ids: Iterable[str], count: int) -> list[str]:
    """The first ``count`` of ``ids`` holding a granted person benefit, looked up in batches
    (one array parameter each) so that neither the registry nor the grants are held whole."""
    from sqlalchemy import text

    from app.privacy import keyring

    ring = keyring()
    chosen: list[str] = []
    numbers = iter(ids)
    with engine.connect() as connection:
        while len(chosen) < count:
            batch = list(islice(numbers, 10_000))
            if not batch:
                break
            keys = {ring.subject_key(number): number for number in batch}
            held = {row[0] for row in connection.execute(text(
                "SELECT DISTINCT subject_key FROM benefit_grant WHERE state = 'granted' "
                "AND subject_kind = 'person' AND subject_key = ANY(:keys)"),
                {"keys": list(keys)})}
            chosen.extend(number for key, number in keys.items() if key in held)
    return chosen[:count]


def death_events(engine, chosen: list[str], count: int, rate: float, consumers: int,
                 as_of: date) -> list[float]:
    from eligibility.events.service import ingest_lines

    arrivals: queue.Queue[tuple[float, str] | None] = queue.Queue()
    latencies: list[float] = []
    lock = threading.Lock()

    def consume() -> None:
        """Take what has arrived (up to 100 events) and ingest it in one transaction."""
        done = False
        while not done:
            items: list[tuple[float, str]] = []
            item = arrivals.get()
            while item is not None:
                items.append(item)
                if len(items) == 100:
                    break
                try:
                    item = arrivals.get_nowait()
                except queue.Empty:
                    break
            if item is None:  # the end: leave the marker for the other consumers
                arrivals.put(None)
                done = True
            if not items:
                continue
            ingest_lines(engine, [text for _, text in items], as_of)  # committed: suspended
            finished = time.perf_counter()
            with lock:
                latencies.extend(finished - arrived for arrived, _ in items)

    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    for index, number in enumerate(chosen):
        due = start + index / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        arrivals.put((due, json.dumps({
            "event_id": f"BENCH-D-{index}", "kind": "death", "source_dept": "health",
            "occurred_on": as_of.isoformat(), "record": {
                "id_number": number, "date_of_death": as_of.isoformat(),
                "source_kind": "hospital", "as_of": as_of.isoformat()}})))
    arrivals.put(None)  # the end marker; each consumer puts it back for the next
    for thread in threads:
        thread.join()
    return sorted(latencies)


def main() -> None:
    args = parse()
    as_of = date.fromisoformat(args.as_of or ("2025-11-03" if args.data == "direct" else
                                              "2026-12-01"))
    os.environ.pop("MIANSHEN_REDIS_URL", None)
    if args.workers:
        os.environ["MIANSHEN_REDIS_URL"] = args.redis_url
    if args.backend:
        os.environ["MIANSHEN_SWEEP_BACKEND"] = args.backend

    from app import migrations
    from app.db import engine_for

    backend = os.environ.get("MIANSHEN_SWEEP_BACKEND", "default")
    print(f"PostgreSQL database {args.database}; {args.persons:,} persons, "
          f"{args.enterprises:,} enterprises; data {args.data}; backend {backend}; "
          f"load average {load_average()}")
    if args.data == "synth":
        template = args.city_db or f"{args.database}_city_{args.persons}_{args.enterprises}"
        if args.rebuild_city or not database_exists(args.admin_url, template):
            city_url = create_database(args.admin_url, template)
            migrations.upgrade(city_url)
            timed("build city (generate, import)", load_synth, city_url, args.persons,
                  args.enterprises, as_of)
            engine_for(city_url).dispose()
        else:  # a template built before the latest migrations: bring it up to date once
            city_url = args.admin_url.rsplit("/", 1)[0] + f"/{template}"
            timed("migrate city template", migrations.upgrade, city_url)
            engine_for(city_url).dispose()
        if args.build_only:
            return
        url, _ = timed(f"clone city {template}", clone_database, args.admin_url, template,
                       args.database)
        migrations.upgrade(url)
        ids = city_ids(args.persons, args.enterprises)
    else:
        url = create_database(args.admin_url, args.database)
        migrations.upgrade(url)
        ids, _ = timed("load data", load_direct, url, args.persons, args.enterprises, as_of)
    os.environ["MIANSHEN_DATABASE_URL"] = url
    engine = engine_for(url)

    global WORKERS
    distributed = args.workers > 0
    if distributed:
        from sweep_support import WorkerPool

        WORKERS = WorkerPool(args.workers, url, args.redis_url, args.hooks)
        WORKERS.wait_ready()
        print(f"{args.workers} Celery workers on {args.redis_url}, {args.shards} shards per kind, "
              f"hooks {'installed' if args.hooks else 'not installed'}")
    try:
        sweeps(args, url, engine, as_of, ids, distributed)
    finally:
        if WORKERS:
            WORKERS.stop()
    engine.dispose()
    if not args.keep:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def sweeps(args: argparse.Namespace, url: str, engine, as_of: date, ids: Iterable[str],
           distributed: bool) -> None:
    from sqlalchemy import text

    from eligibility.sweeps.service import run_sweep

    report, full_seconds = timed("full sweep", run_sweep, as_of, full=True, engine=engine,
                                 distributed=distributed, shards=args.shards)
    print(f"  {json.dumps(report.counts, sort_keys=True)}")
    with engine.connect() as connection:
        held = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("decision", "benefit_grant", "grant_event", "payment", "audit_entry",
                          "certificate", "notification")}
    print(f"  persisted: {held}")
    if held["certificate"]:
        print(f"  e-certificates issued: {held['certificate']:,} "
              f"({held['certificate'] / full_seconds:,.0f}/s of the full sweep's wall time)")
    if args.full_only:
        print(f"\nsummary\n  full sweep          {full_seconds:8.1f} s\n"
              f"  load average        {load_average()}")
        return

    changed = touch_one_percent(url)
    report, incremental_seconds = timed(f"incremental sweep ({changed:,} persons changed)",
                                        run_sweep, as_of, engine=engine,
                                        distributed=distributed, shards=args.shards)
    print(f"  {json.dumps(report.counts, sort_keys=True)}")

    latencies: list[float] = []
    chosen = granted_ids(engine, ids, args.events) if args.events else []
    if chosen:
        latencies, seconds = timed(
            f"death events at {args.rate:.0f}/s", death_events, engine, chosen,
            args.events, args.rate, args.consumers, as_of,
        )
        if latencies:
            def pct(p: float) -> float:
                return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

            print(f"  {len(latencies):,} deaths in {seconds:.1f} s "
                  f"({len(latencies) / seconds:.0f}/s): suspended after p50 "
                  f"{pct(0.5) * 1000:.0f} ms, p99 {pct(0.99) * 1000:.0f} ms, "
                  f"max {latencies[-1] * 1000:.0f} ms")
    print("\nsummary")
    print(f"  full sweep          {full_seconds:8.1f} s   (goal for 1M + 100k: <= 60 s)")
    print(f"  incremental (1 %)   {incremental_seconds:8.1f} s   (goal: <= 5 s)")
    if latencies:
        p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000
        print(f"  death → suspended   p99 {p99:.0f} ms   (goal: <= 1000 ms at 200/s)")
    print(f"  peak memory         {peak_memory_mb():8,.0f} MB")
    print(f"  load average        {load_average()}")


if __name__ == "__main__":
    main()
