"""Department push of data records (``POST /api/v1/data/{dataset}/batches``) against real
databases: a good batch lands encrypted like an import, bad rows are quarantined with reasons
(no values in the answer) while the rest goes in, a re-send is a no-op, a conflicting re-send
is a 409, wrong scope or department 403, unknown dataset 404, an oversize batch 413, and the
pushed subject is picked up by the next incremental sweep."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.auth.deps import current_principal
from app.auth.principal import Principal
from app.datahub import push
from app.datahub.schemas import MAX_PUSH_ROWS, PushBatchIn
from app.db import session_scope
from app.main import create_app
from app.privacy import keyring
from eligibility.sweeps.service import run_sweep
from tests.support import data
from tests.support.evaluator import LONGEVITY, TestBackend

POLICE = Principal(kind="department", id="apikey:k-police", roles=frozenset({"data:push"}),
                   department="public_security")
URL = "/api/v1/data/person/batches"


def _person(sequence: int, born: date = date(1950, 5, 1), **changes: Any) -> dict[str, Any]:
    number = data.id_number(born, sequence)
    row = {"id_number": number, "name": f"测试{sequence}", "sex": "M" if sequence % 2 else "F",
           "birth_date": born.isoformat(), "region_code": "440604", "mobile": "13800138000",
           "status": "active", "as_of": "2025-11-01"}
    return {**row, **changes}


@pytest.fixture
def client(engine: Engine) -> Iterator[tuple[TestClient, dict[str, Principal | None]]]:
    api = create_app()
    api.state.engine = engine
    who: dict[str, Principal | None] = {"as": POLICE}
    api.dependency_overrides[current_principal] = lambda: who["as"]
    with TestClient(api) as test_client:
        yield test_client, who


def _count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar_one())


def test_a_batch_lands_and_bad_rows_are_quarantined_with_reasons(
    client: tuple[TestClient, dict[str, Principal | None]], engine: Engine
) -> None:
    http, _who = client
    good = [_person(101), _person(102)]
    number = data.id_number(date(1950, 5, 1), 103)
    bad_id = _person(103, id_number=number[:-1] + ("1" if number[-1] == "0" else "0"))
    rows = [good[0], bad_id, {**good[1], "source_dept": "health"}, {**good[0]},
            {**_person(105), "status": "alive", "colour": "red"}, good[1] | {"sex": "F"},
            _person(107, name="陈\x00")]
    answer = http.post(URL, json={"batch_id": "b-1", "rows": rows})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["received"], body["accepted"], body["loaded"], body["quarantined"]) == (7, 2, 2, 5)
    by_row = {(e["index"], e["field"]): e for e in body["errors"]}
    assert by_row[(1, "id_number")]["code"] == "checksum"
    assert by_row[(2, "source_dept")]["code"] == "wrong_department"
    assert by_row[(3, "row")]["code"] == "duplicate"
    assert {by_row[(4, "status")]["code"], by_row[(4, "row")]["code"]} == {
        "not_allowed", "unknown_field"}
    assert by_row[(6, "name")]["code"] == "nul_character"
    assert by_row[(1, "id_number")]["message"].startswith("公民身份号码:")
    assert "440600" not in answer.text and "测试" not in answer.text  # no personal data back
    key = keyring().subject_key(good[0]["id_number"])
    with engine.connect() as connection:
        pii, dept, batch = connection.execute(text(
            "SELECT pii, source_dept, batch_id FROM person WHERE subject_key = :k"), {"k": key}
        ).one()
        source = connection.execute(text(
            "SELECT file_name FROM import_batch WHERE id = :b"), {"b": batch}).scalar_one()
    assert keyring().decrypt_json(pii)["name"] == "测试101" and dept == "public_security"
    assert source == "api:k-police:b-1"
    assert _count(engine, "SELECT count(*) FROM quarantined_row WHERE batch_id = :b", b=batch) == 5
    recorded = http.get(f"{URL}/b-1")
    assert recorded.status_code == 200 and recorded.json() == body


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_resending_is_a_no_op_and_other_content_a_conflict(
    client: tuple[TestClient, dict[str, Principal | None]], engine: Engine
) -> None:
    http, _who = client
    batch = {"batch_id": "b-2", "as_of": "2025-11-01",
             "rows": [{k: v for k, v in _person(111).items() if k != "as_of"}]}
    first = http.post(URL, json=batch)
    stamp = "SELECT updated_at FROM person"
    before = _count(engine, "SELECT count(*) FROM import_batch"), _rows(engine, stamp)
    again = http.post(URL, json=batch)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replay"] == "true"
    assert (_count(engine, "SELECT count(*) FROM import_batch"), _rows(engine, stamp)) == before
    changed = http.post(URL, json={**batch, "rows": [_person(112)]})
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "Conflict"
    assert _count(engine, "SELECT count(*) FROM person") == 1
    assert _count(engine, "SELECT count(*) FROM data_push") == 1


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_refusals(client: tuple[TestClient, dict[str, Principal | None]], engine: Engine) -> None:
    http, who = client
    batch = {"batch_id": "b-3", "rows": [_person(121)]}
    assert http.post("/api/v1/data/citizens/batches", json=batch).status_code == 404
    health = http.post("/api/v1/data/pregnancy_registration/batches", json=batch)
    assert health.status_code == 403 and "来源部门" in health.json()["error"]["message"]
    oversize = http.post(URL, json={"batch_id": "b-4", "rows": [{}] * (MAX_PUSH_ROWS + 1)})
    assert oversize.status_code == 413 and "10000" in oversize.json()["error"]["message"]
    assert http.post(URL, json={"batch_id": "b 5", "rows": [{}]}).status_code == 422
    assert http.post(URL, json={"batch_id": "b-6", "rows": []}).status_code == 422
    assert http.get(f"{URL}/unknown").status_code == 404
    who["as"] = Principal(kind="department", id="apikey:k-tax", roles=frozenset({"data:push"}),
                          department="tax")
    assert http.post(URL, json=batch).status_code == 403
    who["as"] = Principal(kind="department", id="apikey:k-events",
                          roles=frozenset({"events:push"}), department="public_security")
    wrong_scope = http.post(URL, json=batch)
    assert wrong_scope.status_code == 403
    assert wrong_scope.json()["error"]["message"] == "接口权限不足"
    who["as"] = None
    assert http.post(URL, json=batch).status_code == 401
    assert _count(engine, "SELECT count(*) FROM person") == 0


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_pushed_person_is_picked_up_by_the_next_incremental_sweep(
    client: tuple[TestClient, dict[str, Principal | None]], engine: Engine
) -> None:
    http, _who = client
    day, backend = date(2025, 11, 1), TestBackend([LONGEVITY])
    data.add_person(engine, 1, date(1950, 3, 1))
    run_sweep(day, full=True, engine=engine, backend=backend)
    row = _person(131, born=date(1950, 6, 1))
    assert http.post(URL, json={"batch_id": "b-7", "rows": [row]}).json()["loaded"] == 1
    key = keyring().subject_key(row["id_number"])
    grants = "SELECT count(*) FROM benefit_grant WHERE subject_key = :k"
    assert _count(engine, grants, k=key) == 0
    run_sweep(day, full=False, engine=engine, backend=backend)
    assert _count(engine, grants, k=key) == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_department_sees_only_its_own_batches(
    client: tuple[TestClient, dict[str, Principal | None]]
) -> None:
    http, who = client
    deaths = "/api/v1/data/death_record/batches"
    row = {"id_number": data.id_number(date(1950, 5, 1), 141), "date_of_death": "2025-11-20",
           "source_kind": "hospital", "as_of": "2025-11-21"}
    who["as"] = Principal(kind="department", id="apikey:k-health",
                          roles=frozenset({"data:push"}), department="health")
    assert http.post(deaths, json={"batch_id": "d-1", "rows": [row]}).status_code == 200
    assert http.get(f"{deaths}/d-1").status_code == 200
    who["as"] = POLICE  # also a source of death records, but not of this batch
    assert http.get(f"{deaths}/d-1").status_code == 404


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_same_batch_pushed_twice_at_once_is_written_once(engine: Engine) -> None:
    body = PushBatchIn(batch_id="b-9", rows=[_person(151), _person(152)])
    start, outcomes = threading.Barrier(2), []

    def push_once() -> None:
        with session_scope(engine) as session:
            start.wait()
            outcomes.append(push.push_batch(session, "person", body, POLICE))

    threads = [threading.Thread(target=push_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(replay for _result, replay in outcomes) == [False, True]
    assert outcomes[0][0] == outcomes[1][0]
    assert _count(engine, "SELECT count(*) FROM person") == 2
    assert _count(engine, "SELECT count(*) FROM data_push") == 1
    assert _count(engine, "SELECT count(*) FROM import_batch") == 1
