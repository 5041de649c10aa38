"""Life events through the real durable_rules rulesets and real databases: a death suspends
grants at once and calls the hooks (notifications and e-certificates plug in there), the birth
bundle correlates the hospital's certificate with the police's registration in either order and
raises a reminder after 30 days, bad lines are kept with a reason, and re-ingesting changes
nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.privacy import keyring
from eligibility.events.models import EventBundle, EventTask, LifeEvent, ReevaluationRequest
from eligibility.events.service import daily_tick, ingest_lines
from eligibility.grants.hooks import Hook, register, unregister
from eligibility.sweeps.service import run_sweep
from tests.support import data
from tests.support.evaluator import JOB_RETENTION, LONGEVITY, TestBackend
from tests.support.queries import counts, grants_of, ledger

BIRTH = date(1950, 4, 4)
CHEN_ID = data.id_number(BIRTH, 123)
MOTHER_ID = data.id_number(date(1995, 3, 3), 222)
FATHER_ID = data.id_number(date(1994, 2, 2), 111)
CHILD_ID = data.id_number(date(2025, 10, 1), 333)


def line(**event: Any) -> str:
    return json.dumps(event, ensure_ascii=False)


def death(event_id: str, id_number: str, died: str) -> str:
    return line(event_id=event_id, kind="death", source_dept="health", occurred_on=died,
                record={"id_number": id_number, "date_of_death": died, "source_kind": "hospital",
                        "as_of": died})


def birth_certificate(event_id: str, certificate_no: str, born: str) -> str:
    return line(event_id=event_id, kind="birth_certificate", source_dept="health",
                occurred_on=born, record={
                    "certificate_no": certificate_no, "child_name": "陈小明", "child_sex": "M",
                    "birth_date": born, "birth_region": "440604", "mother_id_number": MOTHER_ID,
                    "father_id_number": FATHER_ID, "as_of": born})


def registration(event_id: str, certificate_no: str, day: str) -> str:
    return line(event_id=event_id, kind="hukou_registration", source_dept="public_security",
                occurred_on=day, certificate_no=certificate_no, record={
                    "id_number": CHILD_ID, "name": "陈小明", "sex": "M", "birth_date": "2025-10-01",
                    "region_code": "440604", "status": "active", "as_of": day})


@pytest.fixture
def hook_calls() -> Iterator[dict[str, list[Any]]]:
    calls: dict[str, list[Any]] = {"died": [], "changed": []}

    def cancel_notifications_and_revoke(_session: Session, deaths: Sequence[Any]) -> None:
        calls["died"].extend(deaths)

    def grant_changed(_session: Session, changes: Sequence[Any]) -> None:
        calls["changed"].extend(changes)

    register(Hook.SUBJECT_DIED, cancel_notifications_and_revoke)
    register(Hook.GRANT_CHANGED, grant_changed)
    yield calls
    unregister(Hook.SUBJECT_DIED, cancel_notifications_and_revoke)
    unregister(Hook.GRANT_CHANGED, grant_changed)


def test_death_suspends_at_once_calls_hooks_and_the_sweep_ends_the_grant(
    engine: Engine, hook_calls: dict[str, list[Any]]
) -> None:
    chen = data.add_person(engine, 0, BIRTH, subject_key=keyring().subject_key(CHEN_ID))
    backend = TestBackend([LONGEVITY])
    run_sweep(date(2025, 11, 1), full=True, engine=engine, backend=backend)
    [grant] = grants_of(engine, chen)
    hook_calls["changed"].clear()

    report = ingest_lines(engine, [death("D-1", CHEN_ID, "2025-11-20")], date(2025, 11, 21))

    assert (report.accepted, report.suspended_grants) == (1, 1)
    [suspended] = grants_of(engine, chen)
    assert suspended.state == "suspended"
    assert ledger(engine, grant.id) == [("2025-11", "regular", 10_000, "held", False)]
    assert [(d.subject_key, d.date_of_death) for d in hook_calls["died"]] == [
        (chen, date(2025, 11, 20))
    ]
    assert [(c.to_state, c.reason) for c in hook_calls["changed"]] == [
        ("suspended", "death")  # the reason notifications keep silent about
    ]
    before = counts(engine)
    again = ingest_lines(engine, [death("D-1", CHEN_ID, "2025-11-20")], date(2025, 11, 21))
    assert (again.accepted, again.duplicates) == (0, 1) and counts(engine) == before
    assert len(hook_calls["died"]) == 1

    run_sweep(date(2025, 11, 21), engine=engine, backend=backend)
    [ended] = grants_of(engine, chen)
    assert (ended.state, ended.end_reason, ended.end_date) == ("ended", "death", date(2025, 11, 20))
    assert ledger(engine, grant.id) == [("2025-11", "regular", 10_000, "due", False)]
    with Session(engine) as session:
        requests = session.exec(select(ReevaluationRequest)).all()
    assert [(r.subject_key, r.sweep_id is not None) for r in requests] == [(chen, True)]


def test_birth_bundle_in_either_order_and_reminder_after_30_days(engine: Engine) -> None:
    day = date(2025, 10, 1)
    first = ingest_lines(engine, [registration("R-1", "B001", "2025-10-05")], day)
    second = ingest_lines(engine, [birth_certificate("H-1", "B001", "2025-10-01")], day)
    assert (first.bundles_completed, second.bundles_completed) == (0, 1)

    ingest_lines(engine, [birth_certificate("H-2", "B002", "2025-10-01")], day)
    assert daily_tick(engine, date(2025, 10, 30)) == 0
    assert daily_tick(engine, date(2025, 10, 31)) == 1
    assert daily_tick(engine, date(2025, 11, 1)) == 0  # raised once
    with Session(engine) as session:
        [task] = session.exec(select(EventTask)).all()
        assert (task.correlation_key, task.status) == ("B002", "open")
        assert task.subject_key == keyring().subject_key(MOTHER_ID)
    late = ingest_lines(engine, [registration("R-2", "B002", "2025-11-03")], date(2025, 11, 3))
    assert late.bundles_completed == 1
    with Session(engine) as session:
        assert session.exec(select(EventTask)).one().status == "done"
        bundles = session.exec(select(EventBundle).order_by(col(EventBundle.id))).all()
        assert [b.correlation_key for b in bundles] == ["B001", "B002"]
        keys = {r.subject_key for r in session.exec(select(ReevaluationRequest)).all()}
    assert keyring().subject_key(CHILD_ID) in keys and keyring().subject_key(FATHER_ID) in keys


def test_bad_lines_are_kept_with_a_reason_and_never_stop_the_others(engine: Engine) -> None:
    lines = [
        "{not json",
        line(event_id="X-1", kind="death", source_dept="health", occurred_on="2025-11-01",
             record={"id_number": "440604195001011230", "date_of_death": "2025-11-01",
                     "source_kind": "hospital", "as_of": "2025-11-01"}),  # bad check digit
        line(event_id="X-2", kind="volcano", source_dept="health", occurred_on="2025-11-01",
             record={}),
        death("D-9", CHEN_ID, "2025-11-01"),
    ]
    report = ingest_lines(engine, lines, date(2025, 11, 2))
    assert (report.accepted, report.rejected) == (1, 3)
    assert report.errors[0].startswith("line 1: not JSON")
    assert "not a valid ID number" in report.errors[1] and "kind" in report.errors[2]
    assert all("440604195001011230" not in e for e in report.errors)
    again = ingest_lines(engine, lines, date(2025, 11, 2))
    assert again.duplicates == 1
    alone = ingest_lines(engine, [lines[1]], date(2025, 11, 2))  # a bad event in a chunk of one
    assert (alone.accepted, alone.rejected) == (0, 1)
    with Session(engine) as session:
        rejected = session.exec(select(LifeEvent).where(col(LifeEvent.status) == "rejected")).all()
    assert len(rejected) == 3
    assert all("440604195001011230" not in (r.payload_enc + (r.error or "")) for r in rejected)


def test_enterprise_deregistration_suspends_its_grants(engine: Engine) -> None:
    firm = data.add_enterprise(engine, 5)
    backend = TestBackend([JOB_RETENTION])
    run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=backend)
    run_sweep(date(2025, 11, 11), engine=engine, backend=backend)
    [grant] = grants_of(engine, firm, "test-job-retention")
    assert grant.state == "granted"
    report = ingest_lines(engine, [line(
        event_id="M-1", kind="enterprise_deregistered", source_dept="market_regulation",
        occurred_on="2025-11-12", record={"uscc": firm})], date(2025, 11, 12))
    assert report.suspended_grants == 1
    run_sweep(date(2025, 11, 12), engine=engine, backend=backend)
    [ended] = grants_of(engine, firm, "test-job-retention")
    assert (ended.state, ended.end_reason) == ("ended", "deregistered")
