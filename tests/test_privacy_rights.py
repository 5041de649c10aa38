"""Data-subject rights over real HTTP on 127.0.0.1 and the CLI, both databases: every view of a
person's record lands in the access log (auditor query, the citizen's own view), a citizen's
export holds everything about them decrypted and nothing of anyone else, and a refusal of
automated decisions made through the API sends their next sweep to the review queue."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.auth.deps import current_principal
from app.auth.principal import Principal
from app.cli import cli
from app.datahub import service as datahub
from app.db import session_scope
from app.main import create_app
from app.personal_data import export, service
from app.privacy import keyring
from certs import service as certs
from certs.models import CertType
from eligibility.sweeps.service import run_sweep
from tests import citizens
from tests.sms_support import ServedApp
from tests.support import data
from tests.support.evaluator import LONGEVITY, TestBackend
from tests.support.queries import grants_of

AUDITOR = Principal(kind="staff", id="auditor-li", roles=frozenset({"auditor"}))
OFFICER = Principal(kind="staff", id="officer-wang", roles=frozenset({"officer"}))


def citizen(id_number: str) -> Principal:
    return Principal(kind="citizen", id="c-" + id_number[-4:],
                     subject_key=keyring().subject_key(id_number))


@pytest.fixture
def family(engine: Engine, tmp_path: Path) -> dict[str, dict[str, str]]:
    """Two spouses and their child, imported through the real import path; a certificate for
    the mother."""
    mother, father, child = citizens.person(2), citizens.person(1), citizens.person(3)
    citizens.write_csv(tmp_path, "person", [mother, father, child])
    citizens.write_csv(tmp_path, "marriage_registration", [{
        "registration_no": "J440604-2019-1", "party_a_id_number": father["id_number"],
        "party_b_id_number": mother["id_number"], "kind": "marriage",
        "registration_date": "2019-05-01", "source_dept": "civil_affairs",
        "as_of": citizens.AS_OF}])
    citizens.write_csv(tmp_path, "birth_certificate", [{
        "certificate_no": "O440604-1", "child_id_number": child["id_number"],
        "child_name": child["name"], "child_sex": "M", "birth_date": child["birth_date"],
        "birth_region": "440604", "mother_id_number": mother["id_number"],
        "father_id_number": father["id_number"], "source_dept": "health",
        "as_of": citizens.AS_OF}])
    report = datahub.import_path(engine, tmp_path)
    assert not report.errors
    assert {name: counts.quarantined for name, counts in report.datasets.items()} == {
        "person": 0, "marriage_registration": 0, "birth_certificate": 0}
    with session_scope(engine) as session:
        certs.generate_department_key(session, "transport")
        cert = certs.issue_certificate(
            session, CertType.BUS_CARD, keyring().subject_key(mother["id_number"]),
            mother["name"], "transport", date(2026, 1, 1), None, grant_ref="g-1")
        mother["cert_id"] = cert.cert_id
    return {"mother": mother, "father": father, "child": child}


def served(engine: Engine, principal: Principal | None) -> FastAPI:
    api = create_app()
    api.state.engine = engine
    if principal is not None:
        api.dependency_overrides[current_principal] = lambda: principal
    return api


def test_views_are_logged_and_shown_to_the_auditor_and_the_citizen(
        engine: Engine, family: dict[str, dict[str, str]]) -> None:
    mother = family["mother"]
    mother_key = keyring().subject_key(mother["id_number"])
    with ServedApp(served(engine, OFFICER)) as app, httpx.Client(base_url=app.url) as client:
        assert client.get(f"/api/v1/certs/{mother['cert_id']}").status_code == 200
        assert client.get(f"/api/v1/certs/{mother['cert_id']}/page").status_code == 200
        verified = client.post("/api/v1/certs/verify", json={"cert_id": mother["cert_id"]})
        assert verified.json()["valid"]
        # an officer is not an auditor
        assert client.get("/api/v1/privacy/access",
                          params={"subject": mother["id_number"]}).status_code == 403
    with ServedApp(served(engine, AUDITOR)) as app, httpx.Client(base_url=app.url) as client:
        log = client.get("/api/v1/privacy/access", params={"subject": mother["id_number"]})
        assert log.status_code == 200
        views = log.json()
        assert {(v["viewer_id"], v["purpose"]) for v in views} == {
            ("officer-wang", "certificate_show"), ("officer-wang", "certificate_page"),
            ("officer-wang", "certificate_verify")}
        assert all(v["subject_key"] == mother_key for v in views)
        assert mother["id_number"] not in log.text and mother["name"] not in log.text
        by_viewer = client.get("/api/v1/privacy/access", params={"viewer": "officer-wang"})
        assert len(by_viewer.json()) == 3
        assert client.get("/api/v1/privacy/access").status_code == 422
    with ServedApp(served(engine, citizen(mother["id_number"]))) as app, \
            httpx.Client(base_url=app.url) as client:
        mine = client.get("/api/v1/me/access-log").json()
        assert {v["purpose"] for v in mine} == {"certificate_show", "certificate_page",
                                               "certificate_verify"}
    with ServedApp(served(engine, citizen(family["father"]["id_number"]))) as app, \
            httpx.Client(base_url=app.url) as client:
        assert client.get("/api/v1/me/access-log").json() == []  # own records only
    with ServedApp(served(engine, None)) as app, httpx.Client(base_url=app.url) as client:
        assert client.get("/api/v1/me/access-log").status_code == 401


def test_cli_views_are_logged_and_the_auditor_cli_lists_them(
        engine: Engine, family: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    mother = family["mother"]
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    runner = CliRunner()
    shown = runner.invoke(cli, ["certs", "show", mother["cert_id"]])
    assert shown.exit_code == 0, shown.output
    out = tmp_path / "export.json"
    exported = runner.invoke(cli, ["privacy", "export", mother["id_number"], "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert mother["id_number"] not in exported.output  # masked on screen
    listed = runner.invoke(cli, ["audit", "access", "--subject", mother["id_number"], "--json"])
    assert listed.exit_code == 0, listed.output
    purposes = {(row["channel"], row["purpose"]) for row in json.loads(listed.output)}
    assert purposes == {("cli", "certificate_show"), ("cli", "citizen_export")}
    assert json.loads(out.read_text(encoding="utf-8"))["registry"]["person"][0]["name"] \
        == mother["name"]


def _everything_of(person: dict[str, str]) -> list[str]:
    return [person["id_number"], person["name"], person["mobile"], person["address"]]


def test_export_holds_everything_about_the_citizen_and_nothing_of_anyone_else(
        engine: Engine, family: dict[str, dict[str, str]]) -> None:
    mother, father, child = family["mother"], family["father"], family["child"]
    with ServedApp(served(engine, citizen(mother["id_number"]))) as app, \
            httpx.Client(base_url=app.url, timeout=30) as client:
        response = client.get("/api/v1/me/export")
        assert response.status_code == 200
        text = response.text
        packed = client.get("/api/v1/me/export", params={"zip": "true"})
    document = json.loads(text)
    for value in _everything_of(mother):
        assert value in text
    for other in (father, child):
        for value in _everything_of(other):
            assert value not in text, "another person's data leaked into the export"
    registry = document["registry"]
    assert registry["person"][0]["name"] == mother["name"]
    assert registry["marriage_registration"][0]["role"] == ["party_b"]
    assert registry["birth_certificate"][0]["role"] == ["mother"]
    assert registry["birth_certificate"][0]["mother_id_number"] == mother["id_number"]
    [certificate] = document["certificate"]
    assert certificate["pii"] == {"holder_name": mother["name"]}
    assert {row["purpose"] for row in document["personal_data_access"]} == {"citizen_export"}
    with zipfile.ZipFile(io.BytesIO(packed.content)) as archive:
        assert sorted(archive.namelist()) == ["README.txt", "export.json"]
        assert mother["name"] in archive.read("export.json").decode()
    with session_scope(engine) as session:  # the father's export: his rows, not hers
        his = export.export_json(export.export_subject(
            session, keyring().subject_key(father["id_number"])))
    assert father["name"] in his and mother["name"] not in his
    assert mother["id_number"] not in his and child["id_number"] not in his


def test_refusal_through_the_api_sends_the_next_sweep_to_review(engine: Engine) -> None:
    refusing = data.add_person(engine, 71, date(1950, 1, 1))
    accepting = data.add_person(engine, 72, date(1950, 1, 1))
    refuser = Principal(kind="citizen", id="c-71", subject_key=refusing)
    with ServedApp(served(engine, refuser)) as app, httpx.Client(base_url=app.url) as client:
        first = client.post("/api/v1/me/refuse-automation")
        again = client.post("/api/v1/me/refuse-automation")
    assert first.status_code == 200 and "人工审核" in first.json()["message"]
    assert again.json()["refused_at"] == first.json()["refused_at"]  # idempotent
    run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=TestBackend([LONGEVITY]))
    [held] = grants_of(engine, refusing)
    [automatic] = grants_of(engine, accepting)
    assert (held.state, held.review_flags) == ("manual_review", "refused_automation")
    assert automatic.state != "manual_review"
    with ServedApp(served(engine, OFFICER)) as app, httpx.Client(base_url=app.url) as client:
        assert client.post("/api/v1/me/refuse-automation").status_code == 403


def test_an_officer_records_a_paper_refusal_with_the_cli(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    number = data.id_number(date(1950, 2, 2), 11)
    key = data.add_person(engine, 73, date(1950, 2, 2),
                          subject_key=keyring().subject_key(number))
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    result = CliRunner().invoke(cli, ["privacy", "refuse-automation", number,
                                      "--officer", "officer-wang"])
    assert result.exit_code == 0, result.output
    assert number not in result.output
    run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=TestBackend([LONGEVITY]))
    [held] = grants_of(engine, key)
    assert held.state == "manual_review"


def test_a_viewer_id_that_is_an_id_number_is_stored_as_its_key(engine: Engine) -> None:
    number = data.id_number(date(1960, 1, 1), 21)
    with session_scope(engine) as session:
        service.record_access(session, Principal(kind="citizen", id=number), "a" * 32,
                              "test", ["name"])
    with session_scope(engine) as session:
        [row] = service.access_log(session, "a" * 32)
    assert row.viewer_id == keyring().subject_key(number)
