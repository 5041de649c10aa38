"""A sweep sharded across real Celery worker processes (``celery -A app.celery_app worker``)
over real Redis (db 13) and PostgreSQL gives exactly the grants, decisions and ledger of a
single-process sweep of the same data; a worker killed with SIGKILL mid-shard (all its rows
written, nothing committed) leaves nothing partial or duplicated and its shard is redone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis
from celery import Celery
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app import migrations
from app.db import engine_for
from app.privacy import keyring
from app.settings import get_settings
from eligibility.sweeps.service import run_sweep
from tests.conftest import truncate_all
from tests.support import data
from tests.support.queries import audit_entries, audit_verifies, counts

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
REDIS_DB13 = os.environ.get("MIANSHEN_TEST_REDIS13_URL", "redis://127.0.0.1:6379/13")
CELERY_KEYS = ("broker_url", "result_backend", "task_always_eager", "task_eager_propagates")
AS_OF = date(2025, 11, 3)


def populate(engine: Engine) -> None:
    for number in range(1, 161):
        birth = date(1925 + number % 80, 1 + number % 12, 1 + number % 28)
        data.add_person(engine, number, birth, region="440604" if number % 7 else "440605",
                        mobile=number % 23 != 0)
        if number % 5:  # a name held: the workers' hook issues the test elderly card
            data.update_person(engine, number, pii=keyring().encrypt_json({"name": "陈大文"}))
    for number in range(1, 31):
        data.add_enterprise(engine, number, size=("small", "micro", "large")[number % 3])
    data.add_legacy_payment(engine, 5, "2025-11", 10_000, "GJ-LONGEVITY")


def outcome(engine: Engine) -> dict[str, list[tuple[str | None, ...]]]:
    """Everything a sweep decides, without ids or timestamps."""
    queries = {
        "grants": "SELECT policy_id, subject_key, episode, state, tier, amount_fen, start_period, "
                  "review_flags, notice_ends_on FROM benefit_grant",
        "decisions": "SELECT policy_id, policy_version, subject_key, seq, is_current, eligible, "
                     "tier, amount_fen, flags, inputs_hash, explanation FROM decision",
        "ledger": "SELECT g.policy_id, g.subject_key, p.period, p.kind, p.amount_fen, p.status "
                  "FROM payment p JOIN benefit_grant g ON g.id = p.grant_id",
        "events": "SELECT g.policy_id, g.subject_key, e.from_state, e.to_state, e.reason "
                  "FROM grant_event e JOIN benefit_grant g ON g.id = e.grant_id",
    }
    def plain(value: object) -> str | None:  # SQLite and PostgreSQL return dates/bools apart
        if value is None:
            return None
        return str(int(value)) if isinstance(value, bool) else str(value)

    with engine.connect() as connection:
        return {
            name: sorted(tuple(plain(v) for v in row) for row in connection.execute(text(sql)))
            for name, sql in queries.items()
        }


@pytest.fixture
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str | None, ...]]]:
    """The single-process result on the same data (an SQLite database of its own)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'ref.db'}"
    migrations.upgrade(url)
    engine = engine_for(url)
    populate(engine)
    from tests.support.evaluator import TestBackend

    run_sweep(AS_OF, full=True, engine=engine, distributed=False, backend=TestBackend())
    return outcome(engine)


def reconfigure(celery: Celery, **conf: object) -> None:
    """Point the app at another broker. Its connection pool and kombu's producer pool stay bound
    to the old broker (``send_task`` from an earlier test publishes to ``memory://`` even in
    eager mode), so both are dropped: otherwise shards are published where no worker listens."""
    celery.conf.update(conf)
    celery.close()
    celery.amqp._producer_pool = None


@pytest.fixture
def cluster(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, object]]:
    client = redis.Redis.from_url(REDIS_DB13, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis unreachable: {error}")
    client.flushdb()
    engine = engine_for(pg_url)
    truncate_all(engine)
    marker = tmp_path / "hang-once"
    env = {
        **os.environ, "MIANSHEN_DATABASE_URL": pg_url, "MIANSHEN_REDIS_URL": REDIS_DB13,
        "MIANSHEN_SWEEP_BACKEND": "tests.support.evaluator:backend",
        "MIANSHEN_SWEEP_LEASE_SECONDS": "6", "MIANSHEN_TEST_EVAL_DELAY": "0.2",
        "PYTHONPATH": str(ROOT), "MIANSHEN_HOME": str(tmp_path),
        "MIANSHEN_TEST_CARD_CERTIFICATES": "1",
    }
    for name in ("MIANSHEN_DATABASE_URL", "MIANSHEN_REDIS_URL", "MIANSHEN_SWEEP_BACKEND",
                 "MIANSHEN_SWEEP_LEASE_SECONDS"):
        monkeypatch.setenv(name, env[name])
    get_settings.cache_clear()
    # The one Celery app is configured when first imported; if another test module imported it
    # before Redis was configured here, it is in eager/in-memory mode. Point it at db 13.
    from app.celery_app import celery

    saved = {key: celery.conf[key] for key in CELERY_KEYS}
    reconfigure(celery, broker_url=REDIS_DB13, result_backend=REDIS_DB13,
                task_always_eager=False, task_eager_propagates=False)
    workers: list[subprocess.Popen[bytes]] = []

    def start(name: str, hang: bool = False) -> subprocess.Popen[bytes]:
        worker_env = {**env, "MIANSHEN_TEST_HANG_MARKER": str(marker)} if hang else env
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.celery_app", "worker", "--pool=solo",
             "-n", f"{name}@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"{name}.log").open("wb"),
        )
        workers.append(process)
        return process

    yield {"engine": engine, "start": start, "marker": marker}
    for process in workers:
        if process.poll() is None:
            process.terminate()
    for process in workers:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    client.flushdb()
    reconfigure(celery, **saved)
    get_settings.cache_clear()
    truncate_all(engine)


def test_two_workers_give_the_single_process_result(
    cluster: dict[str, object], reference: dict[str, list[tuple[str | None, ...]]]
) -> None:
    engine: Engine = cluster["engine"]  # type: ignore[assignment]
    populate(engine)
    cluster["start"]("w1")  # type: ignore[operator]
    cluster["start"]("w2")  # type: ignore[operator]

    report = run_sweep(AS_OF, full=True, engine=engine, distributed=True, shards=6, timeout=180)

    assert report.status == "done" and report.shards == 12  # 6 per subject kind
    assert len(report.workers) == 2, report.workers
    got = outcome(engine)
    for name in reference:
        assert set(got[name]) ^ set(reference[name]) == set(), name
    assert got == reference
    assert_logged_once(engine)
    before = counts(engine)
    again = run_sweep(AS_OF, engine=engine, distributed=True, shards=6, timeout=180)
    assert again.status == "done" and counts(engine) == before


def test_a_worker_killed_mid_shard_leaves_nothing_partial_and_the_shard_is_redone(
    cluster: dict[str, object], reference: dict[str, list[tuple[str | None, ...]]]
) -> None:
    engine: Engine = cluster["engine"]  # type: ignore[assignment]
    marker: Path = cluster["marker"]  # type: ignore[assignment]
    populate(engine)
    victim = cluster["start"]("victim", hang=True)  # type: ignore[operator]
    import threading

    result: dict[str, object] = {}

    def coordinate() -> None:
        result["report"] = run_sweep(AS_OF, full=True, engine=engine, distributed=True, shards=3,
                                     timeout=240)

    coordinator = threading.Thread(target=coordinate)
    coordinator.start()
    deadline = time.monotonic() + 180  # worker start-up is slow on a loaded 2-core machine
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), "no shard reached its hooks"
    assert int(marker.read_text()) == victim.pid
    with engine.connect() as connection:  # the hanging shard's rows are not visible: uncommitted
        leased = connection.execute(text(
            "SELECT count(*) FROM sweep_shard WHERE status = 'leased'")).scalar_one()
    assert leased >= 1
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    cluster["start"]("rescuer")  # type: ignore[operator]
    coordinator.join(timeout=240)

    report = result["report"]
    assert report.status == "done"  # type: ignore[attr-defined]
    assert report.attempts > report.shards  # type: ignore[attr-defined]
    assert outcome(engine) == reference
    with engine.connect() as connection:
        duplicates = connection.execute(text(
            "SELECT count(*) FROM (SELECT grant_id, period, kind FROM payment "
            "GROUP BY grant_id, period, kind HAVING count(*) > 1) d")).scalar_one()
    assert duplicates == 0
    assert_logged_once(engine)  # the killed shard's entries went with its transaction
    assert_one_certificate_per_card(engine)  # and so did its certificates


def assert_one_certificate_per_card(engine: Engine) -> None:
    """The workers' hooks issued one valid, logged certificate per named card holder."""
    from sqlmodel import Session, select

    from certs.models import Certificate
    from certs.service import verify_online

    with engine.connect() as connection:
        cards = {f"grant-{row[0]}" for row in connection.execute(text(
            "SELECT g.id FROM benefit_grant g JOIN person p ON p.subject_key = g.subject_key "
            "WHERE g.policy_id = 'test-elderly-card' AND g.state = 'granted' "
            "AND p.pii IS NOT NULL"))}
    with Session(engine) as session:
        certificates = list(session.exec(select(Certificate)))
        assert cards and sorted(c.grant_ref or "" for c in certificates) == sorted(cards)
        assert all(verify_online(session, cert_id=c.cert_id).valid for c in certificates)
    logged = audit_entries(engine)["certificate_issued"]
    assert sorted(str(e["record_id"]) for e in logged) == sorted(c.cert_id for c in certificates)


def assert_logged_once(engine: Engine) -> None:
    """One audit entry per decision, grant event and ledger row, and the log verifies."""
    held, logged = counts(engine), audit_entries(engine)
    assert len(logged["decision"]) == held["decision"]
    assert len(logged["grant_state"]) == held["grant_event"]
    assert len(logged["payment"]) == held["payment"]
    assert audit_verifies(engine)
