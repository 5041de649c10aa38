"""Verification API throughput and latency against a 1M-person registry in PostgreSQL.

Creates (or reuses) the database ``certs_bench_1m``, migrates it and COPYs the registry
(``verify_registry``; not timed), creates a department API key with the verify scopes, serves
the API with uvicorn on 127.0.0.1 (``--workers`` processes, Redis db 4 for the per-key rate
counter) with the call log on, and runs the open-loop load generator (``verify_loadgen``) as a
separate process at ``--rate`` requests/s. Prints sustained req/s, p50/p95/p99 latency, the
status codes, how many calls reached the call log after a graceful stop, and the load average.

    .venv/bin/python benchmarks/verify_api.py                       # 2,000 req/s for 30 s
    .venv/bin/python benchmarks/verify_api.py --rate 3000 --workers 2 --duration 60
    .venv/bin/python benchmarks/verify_api.py --drop                # remove the database after

Target (issue 6): ≥ 2,000 req/s sustained with p99 ≤ 50 ms at 2,000 req/s offered.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from verify_registry import load  # noqa: E402

from app import migrations  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/4"


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ensure_database(name: str) -> str:
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    migrations.upgrade(url)
    return url


def _api_key(url: str) -> str:
    from app.auth.apikeys import create_key
    from app.db import engine_for, session_scope

    with session_scope(engine_for(url)) as session:
        _row, secret = create_key(session, "bench", ["verify:person", "verify:status"],
                                          rate_per_second=1_000_000, description="benchmark")
    return secret


def _serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MIANSHEN_DATABASE_URL": url, "MIANSHEN_REDIS_URL": REDIS,
           "MIANSHEN_ENV": "development"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--no-access-log", "--log-level", "warning", "--loop", "uvloop"
               if _has("uvloop") else "asyncio", "--http", "httptools" if _has("httptools")
               else "h11"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("uvicorn did not start")


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (those that have exited count 0)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _server_pids(server: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [server.pid, *map(int, children.read_text().split())]


def _backend_pids(url: str, database: str) -> list[int]:
    """The database's backends (none when the server refuses another connection)."""
    try:
        with psycopg.connect(url) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid()", (database,)).fetchall()
    except psycopg.OperationalError:
        return []
    return [int(row[0]) for row in rows]


def _logged(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM verification_call").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--database", default="certs_bench_1m")
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()

    url = _ensure_database(args.database)
    seconds = load(url, args.persons)
    print(f"registry: {args.persons:,} persons in {args.database}"
          + (f" (loaded in {seconds:.0f} s, not timed)" if seconds else " (reused)"))
    key = _api_key(url)
    port = _free_port()
    before = _logged(url)
    server = _serve(url, port, args.workers)
    print(f"uvicorn: {args.workers} worker(s); load average before: {_load_average()}")
    server_cpu = _cpu_seconds(_server_pids(server))
    own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        generator = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "verify_loadgen.py"),
             "--url", f"http://127.0.0.1:{port}", "--key", key, "--rate", str(args.rate),
             "--duration", str(args.duration), "--warmup", str(args.warmup),
             "--persons", str(args.persons), "--connections", str(args.connections)],
            check=True, capture_output=True, text=True)
        load_after = _load_average()
        server_cpu = _cpu_seconds(_server_pids(server)) - server_cpu
        backends_cpu = _cpu_seconds(_backend_pids(url, args.database))
        own_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        generator_cpu = (own_after.ru_utime + own_after.ru_stime
                         - own_before.ru_utime - own_before.ru_stime)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    result = json.loads(generator.stdout)
    logged = _logged(url) - before
    sent = result["requests"]
    print(f"offered {args.rate:,.0f} req/s for {args.duration:.0f} s (+{args.warmup:.0f} s "
          f"warm-up), {args.connections} connections, open loop")
    print(f"sustained: {result['sustained_rps']:,.0f} req/s; latency p50 {result['p50_ms']:.1f} ms,"
          f" p95 {result['p95_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
          f"max {result['max_ms']:.1f} ms")
    print(f"status codes: {result['statuses']}; connection errors: {result['errors']}")
    print(f"call log: {logged:,} rows for {sent:,} requests sent")
    print(f"CPU per request: API {server_cpu / sent * 1000:.2f} ms, PostgreSQL backends "
          f"~{backends_cpu / sent * 1000:.2f} ms, load generator "
          f"{generator_cpu / sent * 1000:.2f} ms")
    print(f"load average after: {load_after} (machine shared with other engineers' work)")
    met = result["sustained_rps"] >= 0.98 * args.rate and result["p99_ms"] <= 50
    print("target (>= 2,000 req/s, p99 <= 50 ms):", "met" if met and args.rate >= 2000
          else "NOT met")
    if args.drop:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
