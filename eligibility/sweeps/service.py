"""Sweeps: plan, run shards, finish.

``plan_sweep`` records a run and splits the subjects of each kind into shards by subject-key
range. A full sweep evaluates every subject; an incremental one only the subjects whose data
changed since the last completed sweep (``updated_at`` past its watermark), those with a date
trigger (an anniversary since the last sweep's as-of date) and those events asked for; policies
that are new, changed, or whose parameters take a new value in the window are evaluated in full.

``run_shard`` is the unit of work a worker does: take the shard's lease, then in one transaction
evaluate, write decisions and grant changes, move elapsed public notices on, extend and
reconcile the ledger, run the hooks, and mark the shard done only if the lease is still held.
A worker that dies leaves nothing behind (its transaction never commits) and the shard is
redone once the lease expires. ``run_sweep`` runs the shards in process (embedded default) or
hands them to Celery workers and waits, re-enqueueing shards whose lease expired.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy.engine import Engine

from app.audit.batch import cyclic_gc_paused
from app.db import get_engine, session_scope
from app.settings import get_settings
from eligibility.grants.bulk import utcnow
from eligibility.grants.context import SweepContext
from eligibility.grants.review import advance_notices
from eligibility.grants.service import apply_results
from eligibility.payments.service import extend_ledgers
from eligibility.sweeps import repository as repo
from eligibility.sweeps.backend import EvaluationBackend, PolicySpec, Selection, get_backend
from eligibility.sweeps.models import SweepRun, SweepShard
from eligibility.sweeps.schemas import SweepReport

log = logging.getLogger(__name__)
KINDS = ("person", "enterprise", "child")  # child: per birth certificate, paid to a guardian
FULL_SHARE = 0.2  # an incremental sweep touching more than this share of subjects runs in full
RESTATE_AFTER = 50_000  # decisions written by a sweep before table statistics are refreshed


class LeaseLost(RuntimeError):
    """Another worker took over the shard; this worker's work is rolled back."""


def plan_sweep(
    engine: Engine, as_of: date, full: bool = False, shards: int = 1,
    backend: EvaluationBackend | None = None,
) -> int:
    """Record a sweep run and its shards (committed); returns the sweep id."""
    backend = backend or get_backend()
    policies = list(backend.policies(as_of, engine))
    with session_scope(engine) as session:
        connection = session.connection()
        previous = repo.last_completed(session)
        now = utcnow()
        mode = "full" if full or previous is None or previous.as_of > as_of else "incremental"
        if previous is not None and (as_of - previous.as_of).days > 62:
            mode = "full"
        versions = {p.id: p.version for p in policies}
        run = SweepRun(
            mode=mode, as_of=as_of, previous_as_of=previous.as_of if previous else None,
            status="running", data_watermark=now, started_at=now,
            summary=json.dumps({"policy_versions": versions}),
        )
        session.add(run)
        session.flush()
        assert run.id is not None
        count = 0
        for kind in KINDS:
            kind_policies = [p for p in policies if p.subject_kind == kind]
            if not kind_policies:
                continue
            keys: set[str] | None = None
            full_policies: list[str] = []
            if mode == "incremental":
                assert previous is not None
                keys, full_policies = _incremental_scope(
                    connection, kind, kind_policies, previous, as_of, run.id
                )
            if keys is not None and not full_policies:  # only these subjects: split them
                bounds = repo.key_boundaries(sorted(keys), shards)
            else:
                bounds = repo.shard_boundaries(connection, kind, shards)
            for number, (lo, hi) in enumerate(pairwise(bounds)):
                inside = Selection(lo, hi)
                shard_keys = None if keys is None else sorted(filter(inside.contains, keys))
                session.add(SweepShard(
                    sweep_id=run.id, subject_kind=kind, shard_no=number, key_lo=lo, key_hi=hi,
                    subject_keys=None if shard_keys is None else json.dumps(shard_keys),
                    full_policies=",".join(full_policies), status="pending",
                ))
                count += 1
        run.shard_count = count
        session.add(run)
        return run.id


def _incremental_scope(
    connection: Any, kind: str, policies: Sequence[PolicySpec], previous: SweepRun,
    as_of: date, sweep_id: int,
) -> tuple[set[str] | None, list[str]]:
    """Subjects to evaluate again (None: all of them) and policies to evaluate in full."""
    swept = json.loads(previous.summary or "{}").get("policy_versions", {})
    full_policies = [
        p.id for p in policies
        if swept.get(p.id) != p.version or p.parameter_changes(previous.as_of, as_of)
    ]
    if kind == "enterprise" and as_of.strftime("%Y-%m") != previous.as_of.strftime("%Y-%m"):
        full_policies = [p.id for p in policies]  # monthly data windows moved on
    if kind == "child" and as_of.year != previous.as_of.year:
        full_policies = [p.id for p in policies]  # a new year's months are pro-rated afresh
    keys = repo.changed_subjects(connection, kind, previous.data_watermark - timedelta(minutes=5))
    keys |= repo.date_triggered_subjects(connection, kind, previous.as_of, as_of)
    requests = repo.pending_reevaluations(connection, kind)
    keys |= set(requests.values())
    repo.mark_reevaluations(connection, list(requests), sweep_id)
    held = repo.subject_count(connection, kind)
    if held and len(keys) > FULL_SHARE * held:
        return None, []
    return keys, full_policies


def run_shard(
    engine: Engine, shard_id: int, backend: EvaluationBackend | None = None,
    lease_seconds: int | None = None,
) -> str:
    """Do one shard; returns ``done``, ``busy`` (someone else holds a live lease) or
    ``finished`` (it was already done)."""
    backend = backend or get_backend()
    lease = lease_seconds or get_settings().sweep_lease_seconds
    token = str(uuid.uuid4())
    with session_scope(engine) as session:
        shard = session.get(SweepShard, shard_id)
        if shard is None or shard.status == "done":
            return "finished"
        if not repo.claim_shard(session.connection(), shard_id, token, utcnow(), lease):
            return "busy"
    with lease_kept(engine, shard_id, token, lease), session_scope(engine) as session:
        repo.lock_timeout(session.connection())
        shard = session.get(SweepShard, shard_id)
        assert shard is not None
        run = session.get(SweepRun, shard.sweep_id)
        assert run is not None and run.id is not None
        ctx = SweepContext(
            session=session, backend_or_none=backend, as_of=run.as_of, sweep_id=run.id,
            go_live=repo.go_live(session.connection(), run.id),
        )
        with cyclic_gc_paused():  # millions of short-lived objects, no cycles worth chasing
            _work(ctx, shard)
        result: dict[str, Any] = dict(ctx.counts)
        result["worker"] = f"{socket.gethostname()}:{os.getpid()}"
        if not repo.complete_shard(session.connection(), shard_id, token, result, utcnow()):
            raise LeaseLost(f"shard {shard_id} was taken over; rolling back")
    return "done"


@contextmanager
def lease_kept(engine: Engine, shard_id: int, token: str, lease: float) -> Iterator[None]:
    """Renew the shard's lease every third of its length while the shard is worked on (in its
    own short transactions), so a shard that takes longer than one lease -- 625,000 persons per
    shard at 10M and 16 shards, on a loaded machine -- is not taken over and done twice while
    its worker is alive. A worker that dies stops renewing; its lease then expires as before."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease / 3):
            try:
                with engine.begin() as connection:
                    if not repo.extend_lease(connection, shard_id, token, utcnow(), lease):
                        return  # taken over or finished: nothing more to keep
            except Exception:  # a missed renewal is retried; the lease still has 2/3 left
                log.warning("could not renew the lease of shard %s", shard_id, exc_info=True)

    keeper = threading.Thread(target=renew, name=f"lease-{shard_id}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()


def _work(ctx: SweepContext, shard: SweepShard) -> None:
    policies = [
        p for p in ctx.backend.policies(ctx.as_of, ctx.connection)
        if p.subject_kind == shard.subject_kind
    ]
    whole = Selection(shard.key_lo, shard.key_hi)
    keys = None if shard.subject_keys is None else tuple(json.loads(shard.subject_keys))
    full_ids = set(filter(None, shard.full_policies.split(",")))
    frames_cache: dict[bool, Any] = {}

    def frames_for(everyone: bool) -> Any:
        if everyone not in frames_cache:
            selection = whole if everyone else Selection(shard.key_lo, shard.key_hi, keys)
            frames_cache[everyone] = ctx.backend.load(ctx.connection, shard.subject_kind, selection)
        return frames_cache[everyone]

    for policy in policies:
        everyone = keys is None or policy.id in full_ids
        if not everyone and not keys:
            continue
        frames = frames_for(everyone)
        result = ctx.backend.evaluate(policy, frames, ctx.as_of)
        scope = whole if everyone else Selection(shard.key_lo, shard.key_hi, keys)
        apply_results(ctx, policy, frames, result, scope)
        ctx.counts["evaluated"] += result.height
    advance_notices(ctx, whole)
    ctx.session.flush()
    extend_ledgers(ctx, whole)
    # Hooks, then the audit log: its head lock may be held by another shard's append for a
    # while (waiting for it is expected, unlike a grant row held by someone else).
    repo.lock_timeout(ctx.connection, get_settings().sweep_lease_seconds)
    ctx.flush_hooks()


def finish_sweep(engine: Engine, sweep_id: int) -> SweepReport:
    with session_scope(engine) as session:
        run = session.get(SweepRun, sweep_id)
        assert run is not None
        shards = repo.shards_of(session, sweep_id)
        totals: Counter[str] = Counter()
        workers = set()
        for shard in shards:
            result = json.loads(shard.result or "{}")
            workers.add(result.pop("worker", ""))
            totals.update(result)
        done = all(s.status == "done" for s in shards)
        if run.status == "running" and done:
            run.status = "done"
            run.finished_at = utcnow()
            summary = json.loads(run.summary or "{}")
            summary["counts"] = dict(totals)
            run.summary = json.dumps(summary, sort_keys=True)
            session.add(run)
        report = SweepReport(
            sweep_id=sweep_id, mode=run.mode, as_of=run.as_of, status=run.status,
            shards=len(shards), attempts=sum(s.attempts for s in shards), counts=dict(totals),
            workers=sorted(w for w in workers if w),
        )
    if report.status == "done" and totals["decisions"] >= RESTATE_AFTER:
        # A sweep that wrote this much changed the tables' sizes by a large factor (the first
        # full sweep fills them): refresh the planner's statistics now rather than when
        # autovacuum gets to it, or the next sweep's key lookups may be planned as scans.
        repo.refresh_statistics(engine)
    return report


def run_sweep(
    as_of: date, full: bool = False, engine: Engine | None = None, shards: int | None = None,
    distributed: bool | None = None, backend: EvaluationBackend | None = None,
    timeout: float = 3600.0,
) -> SweepReport:
    """Plan, run every shard (in process, or on Celery workers when Redis is configured) and
    finish. Safe to re-run: a second sweep over unchanged data writes nothing new."""
    engine = engine or get_engine()
    settings = get_settings()
    distributed = (not settings.tasks_eager) if distributed is None else distributed
    shard_count = shards or (settings.sweep_shards if distributed else 1)
    sweep_id = plan_sweep(engine, as_of, full=full, shards=shard_count, backend=backend)
    if distributed:
        from eligibility.sweeps.tasks import enqueue_shard

        wait_for_shards(engine, sweep_id, enqueue_shard, timeout)
    else:
        with session_scope(engine) as session:
            ids = [s.id for s in repo.shards_of(session, sweep_id) if s.id is not None]
        for shard_id in ids:
            run_shard(engine, shard_id, backend=backend)
    return finish_sweep(engine, sweep_id)


def wait_for_shards(
    engine: Engine, sweep_id: int, enqueue: Callable[[int], None], timeout: float,
    poll: float = 0.5,
) -> None:
    """Hand every shard to the workers, then wait; a shard whose lease expired (its worker
    died) or that nobody picked up is handed out again."""
    with session_scope(engine) as session:
        pending = [s.id for s in repo.shards_of(session, sweep_id) if s.id is not None]
    for shard_id in pending:
        enqueue(shard_id)
    deadline = time.monotonic() + timeout
    last_nudge = time.monotonic()
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            shards = repo.shards_of(session, sweep_id)
        if all(s.status == "done" for s in shards):
            return
        now = utcnow()
        if time.monotonic() - last_nudge > 5:
            for shard in shards:
                expired = shard.status == "leased" and shard.lease_expires_at is not None and (
                    shard.lease_expires_at < now
                )
                if (expired or shard.status == "pending") and shard.id is not None:
                    enqueue(shard.id)
            last_nudge = time.monotonic()
        time.sleep(poll)
    raise TimeoutError(f"sweep {sweep_id} did not finish within {timeout:.0f} s")
