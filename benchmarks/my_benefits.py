"""Benchmark of the citizen "my benefits" endpoint (``GET /api/v1/me/benefits``) on a 1M-person
city in PostgreSQL; prints its figures. Goal (issue 8): p99 <= 100 ms while serving 500 req/s.

1. The city: database ``--database`` (default ``web_bench_1m``, kept for re-runs). With
   ``--prepare`` and an empty database it synthesises 1M persons / 100k enterprises, imports and
   sweeps them (the CLI's ``data synth``, ``data import``, ``sweep --full``; tens of minutes on a
   loaded machine).
2. Real sessions: ``--citizens`` distinct citizens (persons with grants first) each get a
   session through the sign-in service (``app.auth.sessions.start_session``); their cookies are
   what the load generator sends. The sessions are ended afterwards.
3. The server: ``mianshen serve --workers N`` (uvicorn) in its own process group on a free
   loopback port, over that database.
4. The load: an open-loop generator in a separate process: request i is due at
   ``start + i / rate`` whether or not earlier ones have answered, so a slow server cannot slow
   the offered load; latency is measured from the due time (no coordinated omission). A small
   asyncio HTTP/1.1 client with keep-alive connections keeps the generator cheap. A warm-up of
   ``--warmup`` seconds is not counted.
5. CPU per request: the server's CPU time (every process of its session, from /proc) from the
   end of the warm-up to the last answer, divided by the requests measured. With
   ``--cpu-probe N`` the script instead sends N sequential requests on one keep-alive connection
   to each of ``/api/v1/health``, ``/api/v1/auth/me`` (the session lookup only) and the
   benefits route, and prints the CPU per request of each: a figure that the machine's load
   barely moves.

    .venv/bin/python benchmarks/my_benefits.py --rate 500 --seconds 30 --workers 2
    .venv/bin/python benchmarks/my_benefits.py --cpu-probe 1000 --citizens 1100 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PATH = "/api/v1/me/benefits"
SERVER_LOG = ROOT / "var" / "bench" / "my_benefits-server.log"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def server_cpu(session_id: int) -> float:
    """CPU seconds used so far by every process of the server's session (its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def database_cpu(name: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to database ``name`` (a
    backend that ends between two readings is missed)."""
    import psycopg

    ticks = os.sysconf("SC_CLK_TCK")
    with psycopg.connect(database_url(name), autocommit=True) as connection:
        pids = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,))]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def database_url(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def prepare_city(url: str) -> None:
    env = {**os.environ, "MIANSHEN_DATABASE_URL": url,
           "MIANSHEN_HOME": str(ROOT / "var" / "bench")}
    city = ROOT / "var" / "bench" / "city"
    cli = [str(ROOT / ".venv" / "bin" / "mianshen")]
    steps = [
        [*cli, "db", "upgrade"],
        [*cli, "data", "synth", "--persons", "1000000", "--enterprises", "100000",
         "--out", str(city)],
        [*cli, "data", "import", str(city)],
        [*cli, "sweep", "--full", "--as-of", "2026-12-01"],
    ]
    for step in steps:
        print("prepare:", " ".join(step[1:3]), flush=True)
        subprocess.run(step, env=env, check=True, stdout=subprocess.DEVNULL)


def start_sessions(url: str, count: int) -> list[str]:
    """Sessions of ``count`` distinct citizens, those holding grants first."""
    from sqlalchemy import text

    from app.auth import sessions
    from app.auth.principal import Principal
    from app.db import engine_for, session_scope

    engine = engine_for(url)
    with engine.connect() as connection:
        keys = [r[0] for r in connection.execute(text(
            "SELECT subject_key FROM (SELECT DISTINCT subject_key FROM benefit_grant "
            "WHERE subject_kind = 'person') g ORDER BY md5(subject_key) LIMIT :n"), {"n": count})]
        if len(keys) < count:
            keys += [r[0] for r in connection.execute(text(
                "SELECT subject_key FROM person WHERE subject_key <> ALL(:have) "
                "ORDER BY id LIMIT :n"), {"have": keys, "n": count - len(keys)})]
    tokens = []
    with session_scope(engine) as session:
        for key in keys:
            principal = Principal(kind="citizen", id=f"citizen:{key}", subject_key=key)
            tokens.append(sessions.start_session(session, principal).token)
    return tokens


def end_sessions(url: str, tokens: list[str]) -> None:
    from app.auth import sessions
    from app.db import engine_for, session_scope

    with session_scope(engine_for(url)) as session:
        for token in tokens:
            sessions.end_session(session, token)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MIANSHEN_DATABASE_URL": url, "MIANSHEN_ENV": "development"}
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(  # the log goes to a file: a full pipe would stall the server
        [str(ROOT / ".venv" / "bin" / "mianshen"), "serve", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=SERVER_LOG.open("w"),
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                probe.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close"
                              b"\r\n\r\n")
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    time.sleep(5)  # the other workers finish starting
                    return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"server exited, see {SERVER_LOG}") from None
            time.sleep(0.2)
    raise SystemExit("server did not start in 120 s")


class Connections:
    """Keep-alive HTTP/1.1 connections to the server; a new one opens when all are busy."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str, cookie: str) -> tuple[int, bytes]:
        """One request; a kept-alive connection the server has meanwhile closed (uvicorn closes
        idle ones after 5 s) is retried once on a new connection, as HTTP clients do."""
        if self.idle:
            try:
                return await self._send(self.idle.pop(), path, cookie)
            except (OSError, asyncio.IncompleteReadError, IndexError):
                pass
        return await self._send(await asyncio.open_connection("127.0.0.1", self.port),
                                path, cookie)

    async def _send(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                    path: str, cookie: str) -> tuple[int, bytes]:
        reader, writer = connection
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                     "Accept: application/json\r\n\r\n".encode())
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await reader.readexactly(length)
        self.idle.append(connection)
        return status, body


async def _drive(port: int, cookies: list[str], rate: float, seconds: float, warmup: float
                 ) -> dict[str, object]:
    connections = Connections(port)
    total = int(rate * (seconds + warmup))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    empty = 0
    errors = 0

    async def one(index: int, due: float) -> None:
        nonlocal empty, errors
        try:
            status, body = await connections.get(PATH, cookies[index % len(cookies)])
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            errors += 1
            return
        if due - start >= warmup:
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200 and body == b"[]":
                empty += 1

    start = time.perf_counter() + 0.2
    tasks = []
    warm = False
    for index in range(total):
        due = start + index / rate
        if not warm and due - start >= warmup:
            print("warm", flush=True)  # the parent starts counting the server's CPU now
            warm = True
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    measured_span = time.perf_counter() - (start + warmup)
    return {"latencies": latencies, "statuses": statuses, "empty": empty, "errors": errors,
            "span": measured_span}


def run_generator(port: int, cookies: list[str], rate: float, seconds: float, warmup: float,
                  on_warm: Any = None) -> dict[str, Any]:
    """Run the load generator as a separate process (this script with ``--generate``); the
    cookies go through a temporary file, the figures come back as JSON on its stdout, preceded
    by a ``warm`` line when the warm-up ends (``on_warm`` is called then)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(cookies))
        cookie_file = handle.name
    try:
        generator = subprocess.Popen(
            [sys.executable, __file__, "--generate", str(port), str(rate), str(seconds),
             str(warmup), cookie_file],
            stdout=subprocess.PIPE, text=True,
        )
        assert generator.stdout is not None
        output = ""
        for line in generator.stdout:
            if line.strip() == "warm":
                if on_warm is not None:
                    on_warm()
            else:
                output += line
        if generator.wait(timeout=seconds + warmup + 600) != 0:
            raise SystemExit("the load generator failed")
    finally:
        os.unlink(cookie_file)
    result: dict[str, Any] = json.loads(output)
    return result


def generate(args: list[str]) -> None:
    port, rate, seconds, warmup, cookie_file = args
    cookies = Path(cookie_file).read_text().split("\n")
    result = asyncio.run(_drive(int(port), cookies, float(rate), float(seconds), float(warmup)))
    result["statuses"] = {str(k): v for k, v in result["statuses"].items()}  # type: ignore[attr-defined]
    print(json.dumps(result))


async def _probe(port: int, cookies: list[str], count: int, server_pid: int, database: str
                 ) -> dict[str, dict[str, float]]:
    """Sequential requests per case; "one session" sends one cookie throughout (the session
    cache's hits), "distinct sessions" a different citizen each time (misses, as in the load
    run with 20,000 citizens)."""
    from app.settings import get_settings

    connections = Connections(port)
    cases = [
        ("health", "/api/v1/health", False),
        ("auth/me, one session", "/api/v1/auth/me", False),
        ("auth/me, distinct sessions", "/api/v1/auth/me", True),
        ("me/benefits, one session", PATH, False),
        ("me/benefits, distinct sessions", PATH, True),
    ]
    figures = {}
    for label, path, distinct in cases:
        for index in range(50):  # warm: imports, caches, pooled connections
            await connections.get(path, cookies[index % len(cookies)])
        server_before, database_before = server_cpu(server_pid), database_cpu(database)
        started = time.perf_counter()
        for index in range(count):
            cookie = cookies[(index + 50) % len(cookies)] if distinct else cookies[0]
            status, _body = await connections.get(path, cookie)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
        wall = time.perf_counter() - started
        figures[label] = {
            "server_cpu_ms": round((server_cpu(server_pid) - server_before) * 1000 / count, 3),
            "postgres_cpu_ms": round((database_cpu(database) - database_before) * 1000 / count, 3),
            "wall_ms": round(wall * 1000 / count, 3),
        }
        if distinct:
            # let them leave the cache (the setting is absent before the cache existed)
            await asyncio.sleep(getattr(get_settings().auth, "session_cache_seconds", 0) + 0.5)
    return figures


def cpu_probe(database: str, server_pid: int, port: int, cookies: list[str], count: int) -> None:
    load_before = load_average()
    figures = asyncio.run(_probe(port, cookies, count, server_pid, database))
    print(json.dumps({"requests_each": count, "per_request": figures,
                      "load_average_before": load_before, "load_average_after": load_average()},
                     indent=2))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="web_bench_1m")
    parser.add_argument("--prepare", action="store_true", help="build the 1M city if missing")
    parser.add_argument("--rate", type=float, default=500.0, help="offered requests per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured duration")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--citizens", type=int, default=20_000, help="distinct signed-in citizens")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--cpu-probe", type=int, default=0, metavar="N",
                        help="measure CPU per request over N sequential requests per route")
    args = parser.parse_args()
    url = database_url(args.database)
    os.environ["MIANSHEN_DATABASE_URL"] = url
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from app import migrations
    from app.db import engine_for
    from app.settings import get_settings

    if args.prepare:
        prepare_city(url)
    migrations.upgrade(url)
    with engine_for(url).connect() as connection:
        # A sweep leaves the planner's statistics stale; production has autovacuum for that.
        for table in ("benefit_grant", "birth_certificate", "objection", "auth_session"):
            connection.execute(text(f"ANALYZE {table}"))
        persons = connection.execute(text("SELECT count(*) FROM person")).scalar_one()
        grants = connection.execute(text("SELECT count(*) FROM benefit_grant")).scalar_one()
    print(f"city: {persons:,} persons, {grants:,} grants in {args.database}")
    tokens = start_sessions(url, args.citizens)
    cookie_name = get_settings().auth.cookie_name
    cookies = [f"{cookie_name}={t}" for t in tokens]
    print(f"sessions: {len(tokens):,} distinct citizens signed in")
    port = free_port()
    server = start_server(url, port, args.workers)
    try:
        if args.cpu_probe:
            cpu_probe(args.database, server.pid, port, cookies, args.cpu_probe)
            return
        load_before = load_average()
        readings: list[float] = []

        def warm() -> None:
            readings[:] = [server_cpu(server.pid)]

        result = run_generator(port, cookies, args.rate, args.seconds, args.warmup, warm)
        server_used = server_cpu(server.pid) - readings[0]
        load_after = load_average()
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        end_sessions(url, tokens)
    latencies = [v * 1000 for v in result["latencies"]]
    statuses = {int(k): v for k, v in result["statuses"].items()}
    count = len(latencies)
    figures = {
        "offered_rate": args.rate, "served_rate": round(count / float(result["span"]), 1),
        "requests": count, "statuses": statuses, "errors": result["errors"],
        "empty_answers": result["empty"], "workers": args.workers,
        "p50_ms": round(statistics.median(latencies), 1),
        "p90_ms": round(percentile(latencies, 0.90), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        # from the end of the warm-up to the last answer, per request measured
        "server_cpu_ms_per_request": round(server_used * 1000 / max(1, count), 3),
        "load_average_before": load_before, "load_average_after": load_after,
    }
    print(json.dumps(figures, indent=2))
    ok = statuses == {200: count} and figures["p99_ms"] <= 100
    print(f"goal p99 <= 100 ms at {args.rate:.0f} req/s: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--generate"]:
        generate(sys.argv[2:])
    else:
        main()
