"""SMS throughput through the real outbox and Celery path, with faults.

Sets up a PostgreSQL database of its own, ``--messages`` persons with encrypted mobiles and one
outbox row each (enqueued by ``notifications.service.enqueue_many``), then starts as separate
processes: the mock gateway (failing ``--fail-rate`` of requests, pushing delivery reports), the
Mianshen API (receipt callback), and ``--workers`` Celery workers (``--pool solo``) on Redis db 14.
It plays Celery beat: it keeps ``dispatch_due``, ``dispatch_retries`` and ``reconcile_stale``
queued. Once a third of the messages are handed over it SIGKILLs one worker (and starts a
replacement, as a supervisor would, unless ``--no-restart``).

Prints: sent (accepted by the gateway), delivered (receipts applied), duplicates (messages the
gateway accepted more than once), lost (enqueued but neither handed over nor in a visible failure
state, or marked sent without the gateway having it), the hand-off rate and the load average
(the figure depends on what else runs on the machine).

    .venv/bin/python benchmarks/sms_throughput.py --messages 30000
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from celery import Celery
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrations  # noqa: E402
from app.datahub.models import Person  # noqa: E402
from app.db import engine_for, session_scope  # noqa: E402
from app.privacy import keyring  # noqa: E402
from app.settings import SmsSettings  # noqa: E402
from notifications import service  # noqa: E402
from notifications.mock_gateway import GatewayClient, free_port, sms_settings_for  # noqa: E402
from notifications.models import EventKind  # noqa: E402
from notifications.schemas import NotificationRequest  # noqa: E402

PG_ADMIN = os.environ.get("MIANSHEN_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "mianshen_bench_sms"
CELERY_REDIS = "redis://127.0.0.1:6379/14"
CALLBACK_TOKEN = "bench-callback-token"


def fresh_database() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"
    migrations.upgrade(url)
    return url


def populate(url: str, count: int) -> None:
    ring = keyring()
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        id_number = f"44060419{n:09d}X"
        mobile = f"13{n % 10}{n:08d}"
        rows.append(
            {
                "subject_key": ring.subject_key(id_number),
                "sex": "MF"[n % 2],
                "birth_date": date(1956, 1, 1),
                "region_code": "440604",
                "mobile_index": ring.mobile_index(mobile),
                "status": "active",
                "source_dept": "public_security",
                "as_of": date(2026, 11, 1),
                "row_hash": "0" * 32,
                "updated_at": now,
                "pii": ring.encrypt_json(
                    {"id_number": id_number, "name": "陈大文", "mobile": mobile}
                ),
            }
        )
    engine = engine_for(url)
    with session_scope(engine) as session:
        session.execute(insert(Person.__table__), rows)  # type: ignore[attr-defined]
    keys = [str(row["subject_key"]) for row in rows]
    for start in range(0, count, 5000):
        with session_scope(engine) as session:
            service.enqueue_many(
                session,
                [
                    NotificationRequest(
                        subject_key=key,
                        event=EventKind.PAYMENT_MADE,
                        grant_ref="bench",
                        period="2026-11",
                        agency="禅城区民政局",
                        template_set="longevity_allowance",
                        variables={"paid_on": "2026-11-22", "amount_fen": 20000},
                        batch_ref="bench",
                    )
                    for key in keys[start : start + 5000]
                ],
                settings=SmsSettings(quiet_hours_enabled=False),
            )


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_http(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1, trust_env=False)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def counts(url: str) -> dict[str, int]:
    with engine_for(url).connect() as connection:
        rows = connection.execute(text("SELECT status, count(*) FROM notification GROUP BY status"))
        return {status: number for status, number in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fail-rate", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--no-restart", action="store_true", help="Do not replace the killed worker."
    )
    parser.add_argument("--timeout", type=float, default=240.0)
    options = parser.parse_args()

    logs = ROOT / "var" / "bench-sms"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"setting up {options.messages:,} persons and outbox rows on PostgreSQL ...", flush=True)
    started = time.monotonic()
    url = fresh_database()
    populate(url, options.messages)
    print(f"  enqueued in {time.monotonic() - started:.1f} s", flush=True)
    redis.Redis.from_url(CELERY_REDIS).flushdb()

    gateway_port, api_port = free_port(), free_port()
    gateway_url, api_url = f"http://127.0.0.1:{gateway_port}", f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "MIANSHEN_DATABASE_URL": url,
        "MIANSHEN_REDIS_URL": CELERY_REDIS,
        "MIANSHEN_SMS__CALLBACK_TOKEN": CALLBACK_TOKEN,
        "MIANSHEN_HOME": str(logs),
    }
    env.update(
        {f"MIANSHEN_SMS__{k.upper()}": str(v) for k, v in sms_settings_for(gateway_url).items()}
    )
    env.update(
        {
            "MIANSHEN_SMS__BATCH_SIZE": str(options.batch_size),
            "MIANSHEN_SMS__SEND_CONCURRENCY": "10",
            "MIANSHEN_SMS__MAX_ATTEMPTS": "12",
            "MIANSHEN_SMS__BACKOFF_BASE_SECONDS": "0.2",
            "MIANSHEN_SMS__BACKOFF_MAX_SECONDS": "2",
            "MIANSHEN_SMS__CLAIM_LEASE_SECONDS": "5",
            "MIANSHEN_SMS__READ_TIMEOUT_SECONDS": "2",
            # The run must not depend on the hour it starts at (quiet hours are tested elsewhere).
            "MIANSHEN_SMS__QUIET_HOURS_ENABLED": "false",
        }
    )
    processes: list[subprocess.Popen[bytes]] = []
    gateway_code = (
        "from notifications.mock_gateway import GatewayConfig, serve_forever;"
        f"serve_forever({gateway_port}, GatewayConfig(fail_rate={options.fail_rate}, "
        f"callback_url='{api_url}/api/v1/notifications/receipts', "
        f"callback_token='{CALLBACK_TOKEN}', report_delay_ms=500))"
    )
    processes.append(spawn([sys.executable, "-c", gateway_code], env, logs / "gateway.log"))
    processes.append(
        spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(api_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
            logs / "api.log",
        )
    )

    def start_worker(number: int) -> subprocess.Popen[bytes]:
        return spawn(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "app.celery_app",
                "worker",
                "--pool",
                "solo",
                "-Q",
                "celery,sms-retry",
                "-n",
                f"bench{number}@%h",
                "--loglevel",
                "WARNING",
            ],
            env,
            logs / f"worker{number}.log",
        )

    workers = [start_worker(n) for n in range(options.workers)]
    try:
        wait_http(f"{gateway_url}/_control/stats")
        wait_http(f"{api_url}/api/v1/health")
        gateway = GatewayClient(gateway_url)
        broker = Celery("bench", broker=CELERY_REDIS)
        queue = redis.Redis.from_url(CELERY_REDIS)
        result = drive(options, url, gateway, broker, queue, workers, start_worker)
    finally:
        for process in workers + processes:
            if process.poll() is None:
                process.terminate()
        for process in workers + processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    report(options, result)


def drive(
    options: Any,
    url: str,
    gateway: GatewayClient,
    broker: Celery,
    queue: redis.Redis,
    workers: list[subprocess.Popen[bytes]],
    start_worker: Any,
) -> dict[str, Any]:
    total = options.messages
    load_before = os.getloadavg()[0]
    began = time.monotonic()
    killed_at: float | None = None
    last_reconcile = 0.0
    while time.monotonic() - began < options.timeout:
        stats = gateway.stats()
        if killed_at is None and stats["unique"] >= total // 3:
            victim = workers[0]
            os.kill(victim.pid, signal.SIGKILL)
            killed_at = time.monotonic() - began
            print(
                f"  SIGKILL worker pid {victim.pid} at {killed_at:.1f} s "
                f"({stats['unique']:,} handed over)",
                flush=True,
            )
            if not options.no_restart:
                workers[0] = start_worker(len(workers) + 1)
        status = counts(url)
        waiting = sum(status.get(s, 0) for s in ("created", "retrying", "sending"))
        if waiting == 0:
            break
        if queue.llen("celery") < options.workers:
            broker.send_task("notifications.dispatch_due", kwargs={"time_budget": 5.0})
        if queue.llen("sms-retry") < 1 and status.get("retrying"):
            broker.send_task("notifications.dispatch_retries", kwargs={"time_budget": 5.0})
        if status.get("sending") and time.monotonic() - last_reconcile > 2:
            broker.send_task("notifications.reconcile_stale")
            last_reconcile = time.monotonic()
        time.sleep(0.2)
    handed_over = time.monotonic() - began
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # let the delivery reports land
        status = counts(url)
        if status.get("sent", 0) == 0:
            break
        time.sleep(0.5)
    accepted = {m["out_id"] for m in gateway.messages()}
    with engine_for(url).connect() as connection:
        marked_sent = {
            row[0]
            for row in connection.execute(
                text(
                    "SELECT unique_key FROM notification WHERE status IN ('sent', 'delivered', "
                    "'temporary_failure', 'permanent_failure')"
                )
            )
        }
    return {
        "stats": gateway.stats(),
        "status": counts(url),
        "seconds": handed_over,
        "accepted": accepted,
        "marked_sent": marked_sent,
        "killed_at": killed_at,
        "load_before": load_before,
    }


def report(options: Any, result: dict[str, Any]) -> None:
    stats, status = result["stats"], result["status"]
    not_final = sum(status.get(s, 0) for s in ("created", "retrying", "sending"))
    phantom = len(result["marked_sent"] - result["accepted"])  # "sent" but the gateway lacks it
    missing = len(result["accepted"] - result["marked_sent"])  # the gateway has it, we do not know
    span = (stats["last_accept"] or 0) - (stats["first_accept"] or 0)
    print()
    print(
        f"messages      {options.messages:,} enqueued, {options.workers} workers, "
        f"gateway fail rate "
        f"{options.fail_rate:.0%}, worker SIGKILLed at {result['killed_at'] or 0:.1f} s"
    )
    print(
        f"sent          {stats['unique']:,} (gateway requests {stats['requests']:,}, "
        f"of which failed {stats['failed_requests']:,})"
    )
    print(
        f"delivered     {status.get('delivered', 0):,}  (temporary failures "
        f"{status.get('temporary_failure', 0):,}, "
        f"still awaiting a report {status.get('sent', 0):,})"
    )
    print(f"duplicates    {stats['duplicates']:,}")
    print(
        f"lost          {not_final + phantom + missing:,}  (not final {not_final:,}, marked sent "
        f"without gateway record {phantom:,}, gateway record not marked {missing:,}; "
        f"technical failures {status.get('technical_failure', 0):,})"
    )
    print(
        f"rate          {stats['unique'] / span if span else 0:,.0f} SMS/s handed to the gateway "
        f"(first to last accept, {span:.1f} s); {options.messages / result['seconds']:,.0f} SMS/s "
        f"end to end ({result['seconds']:.1f} s until nothing was waiting)"
    )
    print(f"statuses      {dict(sorted(status.items()))}")
    print(
        f"machine       {os.cpu_count()} cores, load average at start "
        f"{result['load_before']:.1f}, at end {os.getloadavg()[0]:.1f} (1 min)"
    )


if __name__ == "__main__":
    main()
