"""Benchmark: import a synthetic city into PostgreSQL (validation included).

    python benchmarks/import_city.py                      # 1M persons, 100k enterprises
    python benchmarks/import_city.py --persons 200000 --enterprises 20000
    python benchmarks/import_city.py --city var/city      # reuse a city already written
    python benchmarks/import_city.py --database-url postgresql://postgres@127.0.0.1/mydb

Without ``--database-url`` it creates a fresh database on 127.0.0.1 (dropped afterwards unless
``--keep-database``), migrates it with Alembic and imports every dataset file of the city in
catalog order, timing each. It prints rows, seconds and rows/s overall and per dataset, and the
peak RSS of the importing process (the city is synthesised in a child process so its memory is
not counted). ``--reimport`` also times a second import of the same files (a no-op).
Target (issue 2): >= 50,000 rows/s on PostgreSQL. Figures on a shared machine are indicative.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrations  # noqa: E402
from app.datahub import service  # noqa: E402
from app.datahub.catalog import DATASETS  # noqa: E402
from app.datahub.schemas import DatasetCounts  # noqa: E402
from app.db import engine_for  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "import_bench_city"
TARGET_ROWS_PER_SECOND = 50_000


def _synthesise(out: Path, persons: int, enterprises: int, seed: int, as_of: date) -> None:
    from app.datahub.synth import generate_city

    generate_city(out, persons=persons, enterprises=enterprises, seed=seed, as_of=as_of)


def ensure_city(args: argparse.Namespace) -> Path:
    if args.city:
        return Path(args.city)
    out = ROOT / "var" / f"bench-city-{args.persons}-{args.enterprises}-{args.seed}"
    if (out / "person.csv").exists():
        print(f"reusing the city in {out}")
        return out
    print(f"synthesising {args.persons:,} persons and {args.enterprises:,} enterprises into {out}")
    started = time.perf_counter()
    child = multiprocessing.get_context("spawn").Process(
        target=_synthesise, args=(out, args.persons, args.enterprises, args.seed, args.as_of)
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        sys.exit(f"synthesis failed (exit code {child.exitcode})")
    print(f"synthesised in {time.perf_counter() - started:.1f} s")
    return out


def fresh_database() -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}"


def drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu(url: str) -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backends connected to the
    database of ``url`` (read from /proc: the server must run on this machine). Parallel
    maintenance workers that already exited are not counted."""
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        pids = [row[0] for row in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )]
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wal_position() -> int:
    """The server's WAL insert position in bytes (cluster-wide: other databases' writes count
    too, so the per-row figure is exact only on an otherwise idle server)."""
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        row = admin.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint"
        ).fetchone()
    return int(row[0]) if row else 0


def dataset_files(city: Path) -> list[Path]:
    files = []
    for spec in DATASETS:
        for suffix in (".csv", ".jsonl"):
            if (city / f"{spec.name}{suffix}").exists():
                files.append(city / f"{spec.name}{suffix}")
                break
    return files


def import_all(url: str, files: list[Path], batch_rows: int | None, title: str) -> float:
    engine = engine_for(url)
    print(f"\n{title}")
    print(f"{'dataset':<24}{'rows':>12}{'loaded':>12}{'unchanged':>12}{'quarantined':>12}"
          f"{'seconds':>10}{'rows/s':>12}{'µs/row py':>11}{'µs/row pg':>11}{'WAL B/row':>11}")
    total_rows, total_seconds = 0, 0.0
    totals = DatasetCounts()
    process_cpu, database_cpu, wal_bytes = 0.0, 0.0, 0
    for file in files:
        process_before, backend_before = _process_cpu(), backend_cpu(url)
        wal_before = wal_position()
        report = service.import_path(engine, file, batch_rows=batch_rows)
        process_used = _process_cpu() - process_before
        backend_used = backend_cpu(url) - backend_before
        wal_used = wal_position() - wal_before
        wal_bytes += wal_used
        process_cpu += process_used
        database_cpu += backend_used
        for message in report.errors.values():
            print(f"  error: {message}")
        counts = next(iter(report.datasets.values()), DatasetCounts())
        rows = counts.loaded + counts.unchanged + counts.quarantined
        total_rows += rows
        total_seconds += report.seconds
        totals.loaded += counts.loaded
        totals.unchanged += counts.unchanged
        totals.quarantined += counts.quarantined
        rate = rows / report.seconds if report.seconds else 0.0
        print(f"{file.stem:<24}{rows:>12,}{counts.loaded:>12,}{counts.unchanged:>12,}"
              f"{counts.quarantined:>12,}{report.seconds:>10.1f}{rate:>12,.0f}"
              f"{_micros(process_used, rows):>11}{_micros(backend_used, rows):>11}"
              f"{_per_row(wal_used, rows):>11}")
    rate = total_rows / total_seconds if total_seconds else 0.0
    print(f"{'total':<24}{total_rows:>12,}{totals.loaded:>12,}{totals.unchanged:>12,}"
          f"{totals.quarantined:>12,}{total_seconds:>10.1f}{rate:>12,.0f}"
          f"{_micros(process_cpu, total_rows):>11}{_micros(database_cpu, total_rows):>11}"
          f"{_per_row(wal_bytes, total_rows):>11}")
    print(f"load average: {_load()}")
    engine.dispose()
    return rate


def _micros(seconds: float, rows: int) -> str:
    return f"{seconds / rows * 1e6:.1f}" if rows else "-"


def _per_row(amount: float, rows: int) -> str:
    return f"{amount / rows:,.0f}" if rows else "-"


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a fresh local database)")
    parser.add_argument("--city", help="Directory of an existing synthetic city to import")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 22))
    parser.add_argument("--batch-rows", type=int, help="Rows per batch (default: settings)")
    parser.add_argument("--reimport", action="store_true", help="Also time a second import")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()

    city = ensure_city(args)
    print(f"load average before: {_load()}")
    url = args.database_url or fresh_database()
    try:
        migrations.upgrade(url)
        files = dataset_files(city)
        rate = import_all(url, files, args.batch_rows, f"import of {city} into PostgreSQL")
        if args.reimport:
            import_all(url, files, args.batch_rows, "re-import of the same files (no-op)")
    finally:
        if not args.database_url and not args.keep_database:
            drop_database()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the importing process: {peak_mib:,.0f} MiB")
    verdict = "meets" if rate >= TARGET_ROWS_PER_SECOND else "misses"
    print(f"overall {rate:,.0f} rows/s {verdict} the target of {TARGET_ROWS_PER_SECOND:,} rows/s "
          "(shared 2-core machine: indicative)")


if __name__ == "__main__":
    main()
