"""Cost of department API-key authentication, the part of every verification request that
sign-in adds.

1. In-process: ``app.auth.apikeys.authenticate`` on a cached key (keyed BLAKE2b of the secret,
   the cache lookup and the per-key rate counter), with the in-process counter and with the
   Redis counter, in microseconds per call.
2. Over HTTP on 127.0.0.1: uvicorn (``--workers``) serving the real application on its own
   PostgreSQL database, a closed-loop asyncio load generator (``--concurrency`` connections for
   ``--seconds``) against ``GET /api/v1/health`` (no authentication) and ``GET /api/v1/auth/me``
   with ``Authorization: Bearer <key>`` (authentication only): requests/s and p50/p99 latency.
   The difference between the two is what the key check costs a request.

Prints the 1-minute load average with the figures (the machine is shared).

    .venv/bin/python benchmarks/auth_api_keys.py --seconds 10 --concurrency 32 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrations  # noqa: E402
from app.auth import apikeys, throttle  # noqa: E402
from app.db import engine_for, session_scope  # noqa: E402
from app.settings import get_settings  # noqa: E402
from notifications.mock_gateway import free_port  # noqa: E402

PG_ADMIN = os.environ.get("MIANSHEN_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "auth_bench_apikeys"
REDIS_URL = "redis://127.0.0.1:6379/2"


def fresh_database() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"
    migrations.upgrade(url)
    return url


def drop_database() -> None:
    engine_for(PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}").dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def in_process(url: str, secret: str, calls: int) -> dict[str, float]:
    results = {}
    for label, redis_url in (("memory counter", None), ("redis counter", REDIS_URL)):
        if redis_url:
            os.environ["MIANSHEN_REDIS_URL"] = redis_url
        else:
            os.environ.pop("MIANSHEN_REDIS_URL", None)
        get_settings.cache_clear()
        throttle._throttle_for.cache_clear()
        apikeys.forget_cached_keys()
        with session_scope(engine_for(url)) as session:
            apikeys.authenticate(session, secret)  # fills the cache
            started = time.perf_counter()
            for _ in range(calls):
                apikeys.authenticate(session, secret)
            results[label] = (time.perf_counter() - started) / calls * 1e6
    os.environ.pop("MIANSHEN_REDIS_URL", None)
    return results


async def load(base: str, path: str, headers: dict[str, str], seconds: float,
               concurrency: int) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(path, headers=headers)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return len(latencies) / elapsed, p50, p99, errors


def over_http(url: str, secret: str, args: argparse.Namespace) -> list[str]:
    port = free_port()
    env = {**os.environ, "MIANSHEN_DATABASE_URL": url, "MIANSHEN_REDIS_URL": REDIS_URL,
           "MIANSHEN_ENV": "development", "MIANSHEN_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host",
         "127.0.0.1", "--port", str(port), "--workers", str(args.workers), "--log-level",
         "warning", "--no-access-log"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("API server did not start")
            time.sleep(0.2)
        lines = []
        for label, path, headers in (
            ("GET /api/v1/health (no auth)", "/api/v1/health", {}),
            ("GET /api/v1/auth/me (API key)", "/api/v1/auth/me",
             {"Authorization": f"Bearer {secret}"}),
        ):
            asyncio.run(load(base, path, headers, 2, args.concurrency))  # warm-up
            rate, p50, p99, errors = asyncio.run(
                load(base, path, headers, args.seconds, args.concurrency))
            lines.append(f"  {label:32} {rate:8.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
                         f"  non-200: {errors}  (load {os.getloadavg()[0]:.1f})")
        return lines
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = fresh_database()
    try:
        with session_scope(engine_for(url)) as session:
            _row, secret = apikeys.create_key(session, "bench", ["verify:person"], 10_000_000)
        print(f"load average before: {os.getloadavg()[0]:.1f} (1 min)")
        for label, micros in in_process(url, secret, args.calls).items():
            print(f"  authenticate, cached key, {label:15} {micros:7.1f} µs/call")
        for line in over_http(url, secret, args):
            print(line)
        print(f"load average after: {os.getloadavg()[0]:.1f} (1 min)")
    finally:
        drop_database()


if __name__ == "__main__":
    main()
