"""Deaths through the department push API (real HTTP on 127.0.0.1) and through concurrent,
re-delivered batches, with the real policy engine and the real notification and certificate
hooks: grants are suspended exactly once, pending SMS cancelled, e-certificates revoked, and no
SMS about the suspension is queued. Per-row outcomes, idempotency by event id, authorisation."""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.auth.deps import current_principal
from app.auth.principal import Principal
from app.main import create_app
from app.privacy import keyring
from app.wiring import install_hooks
from eligibility.events.service import ingest_batch
from eligibility.sweeps.service import run_sweep
from tests.sms_support import ServedApp
from tests.support import data

SWEPT = date(2025, 11, 3)
DIED = "2025-11-20"
HEALTH = Principal(kind="department", id="health-his", roles=frozenset({"events:push"}),
                   department="health")


def _death(
    event_id: str, number: str, dept: str = "health", kind: str = "hospital"
) -> dict[str, Any]:
    return {"event_id": event_id, "kind": "death", "source_dept": dept, "occurred_on": DIED,
            "record": {"id_number": number, "date_of_death": DIED, "source_kind": kind,
                       "as_of": DIED}}


def _elderly(engine: Engine, count: int) -> list[tuple[str, str]]:
    """Persons aged 75 with a mobile, swept with the bundled catalog: (ID number, key)."""
    install_hooks()
    people = []
    for n in range(count):
        number = data.id_number(date(1950, 3, 1 + n), 100 + n)
        key = data.add_person(engine, n, date(1950, 3, 1 + n),
                              subject_key=keyring().subject_key(number))
        people.append((number, key))
        with engine.begin() as connection:  # a name, so e-certificates are issued
            connection.execute(text("UPDATE person SET pii = :pii WHERE subject_key = :k"),
                               {"pii": keyring().encrypt_json({"name": f"陈{n}"}), "k": key})
    run_sweep(SWEPT, full=True, engine=engine)
    return people


def _rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql), params)]


def _states(engine: Engine, key: str) -> dict[str, str]:
    rows = _rows(engine, "SELECT policy_id, state FROM benefit_grant WHERE subject_key = :k", k=key)
    return dict(rows)


def _suspensions(engine: Engine, key: str) -> list[tuple[Any, ...]]:
    return _rows(engine, "SELECT e.grant_id, e.reason FROM grant_event e JOIN benefit_grant g ON "
                         "g.id = e.grant_id WHERE g.subject_key = :k AND e.to_state = 'suspended'",
                 k=key)


def _messages(engine: Engine, key: str) -> list[tuple[Any, ...]]:
    return _rows(engine, "SELECT event_kind, status FROM notification WHERE subject_key = :k "
                         "ORDER BY id", k=key)


def _certificates(engine: Engine, key: str) -> list[str]:
    return [r[0] for r in _rows(engine, "SELECT status FROM certificate WHERE subject_key = :k",
                                k=key)]


def test_push_api_suspends_at_once_with_an_outcome_per_row(engine: Engine) -> None:
    [(chen_id, chen), (li_id, li)] = _elderly(engine, 2)
    assert _states(engine, chen)["longevity-allowance"] == "granted"
    assert ("granted", "created") in _messages(engine, chen)
    assert set(_certificates(engine, chen)) == {"valid"}
    granted = [p for p, state in _states(engine, chen).items() if state == "granted"]
    api = create_app()
    api.state.engine = engine
    api.dependency_overrides[current_principal] = lambda: HEALTH
    batch = [
        _death("D-1", chen_id),
        _death("D-1", chen_id),  # the same event twice in one push
        _death("D-2", "440600195003011230"),  # a wrong check digit
        "not an event",
        _death("P-1", li_id, dept="public_security", kind="police"),  # not this key's department
        {**_death("D-3", li_id), "occurred_on": "someday"},
    ]
    with (time_machine.travel("2025-11-21 02:00:00Z", tick=True), ServedApp(api) as served,
          httpx.Client(base_url=served.url, timeout=30) as client):
        first = client.post("/api/v1/events", json={"events": batch})
        again = client.post("/api/v1/events", json={"events": batch[:1]})
        empty = client.post("/api/v1/events", json={"events": []})
        api.dependency_overrides[current_principal] = lambda: Principal(
            kind="department", id="health-his", roles=frozenset({"verify:person"}))
        unscoped = client.post("/api/v1/events", json={"events": batch[:1]})
        api.dependency_overrides[current_principal] = lambda: None
        anonymous = client.post("/api/v1/events", json={"events": batch[:1]})

    assert first.status_code == 200
    body = first.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 1, 4)
    assert body["suspended_grants"] == len(granted) >= 2  # the allowance and the card(s)
    results = {r["row"]: r for r in body["results"]}
    assert [results[i]["status"] for i in range(6)] == [
        "accepted", "duplicate", "rejected", "rejected", "rejected", "rejected"]
    assert "not a valid ID number" in results[2]["reason"] and "4402" not in results[2]["reason"]
    assert "JSON object" in results[3]["reason"]
    assert "department" in results[4]["reason"]
    assert results[5]["reason"].startswith("occurred_on")
    assert again.json()["duplicates"] == 1 and again.json()["suspended_grants"] == 0
    assert empty.status_code == 422
    assert unscoped.status_code == 403 and unscoped.json()["error"]["message"] == "接口权限不足"
    assert anonymous.status_code == 401 and "error" in anonymous.json()

    assert {_states(engine, chen)[p] for p in granted} == {"suspended"}
    assert {r[1] for r in _suspensions(engine, chen)} == {"death"}
    kinds = _messages(engine, chen)
    assert ("granted", "cancelled") in kinds and ("granted", "created") not in kinds
    assert not [k for k in kinds if k[0] == "suspended"]  # nobody is told about a death
    assert set(_certificates(engine, chen)) == {"revoked"}
    assert _states(engine, li)["longevity-allowance"] == "granted"  # its events were rejected
    assert _rows(engine, "SELECT count(*) FROM life_event WHERE status = 'rejected'") == [(4,)]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_and_redelivered_deaths_act_exactly_once(engine: Engine) -> None:
    people = _elderly(engine, 6)
    # Hospital and police both report each death; every batch is delivered by four pushers.
    batches = [
        [(i, _death(f"H-{i}", number)) for i, (number, _) in enumerate(people)],
        [(i, _death(f"P-{i}", number, "public_security", "police"))
         for i, (number, _) in enumerate(people)],
    ]
    granted_before = _rows(engine, "SELECT count(*) FROM benefit_grant WHERE state = 'granted'")
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def push(rows: list[tuple[int, Any]]) -> None:
        try:
            outcomes.append(ingest_batch(engine, rows, date(2025, 11, 21))[0])
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=push, args=(batch,)) for batch in batches * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sum(o.accepted for o in outcomes) == 12 and sum(o.rejected for o in outcomes) == 0
    assert sum(o.duplicates for o in outcomes) == 36
    assert [(sum(o.suspended_grants for o in outcomes),)] == granted_before
    for _, key in people:
        assert _states(engine, key)["longevity-allowance"] == "suspended"
        suspended = _suspensions(engine, key)
        assert len(suspended) == len({grant_id for grant_id, _ in suspended}) >= 1
        assert not [k for k in _messages(engine, key) if k[0] == "suspended"]
        assert set(_certificates(engine, key)) == {"revoked"}
    assert _rows(engine, "SELECT count(*) FROM life_event") == [(12,)]
    assert _rows(engine, "SELECT count(*) FROM death_record") == [(12,)]
    snapshot = json.dumps(_rows(engine, "SELECT id, state FROM benefit_grant ORDER BY id"))
    push(batches[0])
    assert json.dumps(_rows(engine, "SELECT id, state FROM benefit_grant ORDER BY id")) == snapshot
