"""Support of the sweep benchmark (``benchmarks/sweep.py``): the load average, CPU readings of
the PostgreSQL backends, and the Celery worker processes of ``--workers N`` -- the production
form of a sweep, shards handed out over Redis to workers of ``app.celery_app`` on this machine
(started, waited for until each answers a ping, measured from /proc, stopped).

Without ``hooks`` the workers do not install the cross-domain hooks (SMS outbox rows,
e-certificate issuance), so they do what the in-process benchmark does: decisions, grants,
ledger and audit log; with ``hooks`` they are exactly production workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
WORKER = "import sys; from app.celery_app import celery; celery.worker_main(sys.argv[1:])"
WORKER_WITHOUT_HOOKS = (
    "import sys; from celery.signals import worker_init; from app.celery_app import celery; "
    "from app.wiring import install_hooks; worker_init.disconnect(install_hooks); "
    "celery.worker_main(sys.argv[1:])"
)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def server_cpu_seconds(database: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to ``database`` (read from
    /proc; empty where that is not readable). With the client's own CPU time this shows what a
    run costs whatever else loads the machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    try:
        with psycopg.connect(os.environ["MIANSHEN_DATABASE_URL"], autocommit=True) as connection:
            pids = [row[0] for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,))]
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, KeyError, psycopg.Error):
        return found
    return found


def server_cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU of the backends between two readings (a backend that ended in between is missed)."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


class WorkerPool:
    def __init__(self, count: int, database_url: str, redis_url: str, hooks: bool) -> None:
        env = {**os.environ, "MIANSHEN_DATABASE_URL": database_url,
               "MIANSHEN_REDIS_URL": redis_url, "PYTHONPATH": str(ROOT)}
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER if hooks else WORKER_WITHOUT_HOOKS, "worker",
                 "--pool=solo", "-n", f"bench{number}@%h", "--loglevel=WARNING",
                 "--without-gossip", "--without-mingle", "-Q", "celery"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for number in range(count)
        ]

    def wait_ready(self, timeout: float = 300.0) -> None:
        from app.celery_app import celery

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = celery.control.ping(timeout=2.0) or []
            if len(replies) >= len(self.processes):
                return
            time.sleep(1.0)
        raise TimeoutError("the benchmark's Celery workers did not start")

    def cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for process in self.processes:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def peak_memory_mb(self) -> list[float]:
        peaks = []
        for process in self.processes:
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
