"""Child policies (育儿补贴, 出生一件事) swept with the real engine and the bundled catalog on a
frozen clock: one grant per child (its birth certificate) even with two local guardians, paid
to and messaged to the guardian the policy names first, pro-rated by the months the policy
says, exactly once on re-runs; a child's death suspends its grant."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import time_machine
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.datahub.models import BirthCertificate
from app.privacy import keyring
from app.wiring import install_hooks
from eligibility.events.service import ingest_lines
from eligibility.grants.context import SweepContext
from eligibility.grants.review import confirm
from eligibility.sweeps.service import run_sweep
from tests.support import data

MOTHER, FATHER = 200, 201
JUNE_CHILD = data.id_number(date(2025, 6, 15), 301)
AS_OF = date(2025, 7, 1)


def _certificate(engine: Engine, number: str, born: date, child: str | None) -> None:
    with Session(engine) as session:
        session.add(BirthCertificate(
            certificate_no=number, child_key=child, child_sex="M", birth_date=born,
            birth_region="440604", mother_key=data.key(MOTHER), father_key=data.key(FATHER),
            source_dept="health", as_of=born, row_hash="0" * 32, updated_at=datetime.now(UTC),
        ))
        session.commit()


def _rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql), params)]


def _grants(engine: Engine, policy: str) -> list[tuple[Any, ...]]:
    return _rows(engine, "SELECT subject_kind, subject_key, payee_key, state, amount_fen, id "
                         "FROM benefit_grant WHERE policy_id = :p ORDER BY subject_key", p=policy)


def _city(engine: Engine) -> None:
    install_hooks()
    data.add_person(engine, MOTHER, date(1995, 3, 3))
    data.add_person(engine, FATHER, date(1994, 2, 2))
    _certificate(engine, "B2025-0615", date(2025, 6, 15), keyring().subject_key(JUNE_CHILD))
    _certificate(engine, "B2023-0820", date(2023, 8, 20), None)
    _certificate(engine, "B2022-0310", date(2022, 3, 10), None)  # three before July 2025


def test_child_grants_go_to_the_guardian_once_and_pro_rated(engine: Engine) -> None:
    _city(engine)
    with time_machine.travel(datetime(2025, 7, 1, 1, 0, tzinfo=UTC), tick=False):
        run_sweep(AS_OF, full=True, engine=engine)
        before = _rows(engine, "SELECT count(*) FROM benefit_grant")
        run_sweep(AS_OF, full=True, engine=engine)  # re-run: nothing new
        assert _rows(engine, "SELECT count(*) FROM benefit_grant") == before

    mother, father = data.key(MOTHER), data.key(FATHER)
    childcare = _grants(engine, "childcare-subsidy")
    assert [(g[0], g[1], g[2], g[4]) for g in childcare] == [
        ("child", "B2023-0820", mother, 360_000),  # all twelve months of 2025
        ("child", "B2025-0615", mother, 210_000),  # June to December
    ]  # one grant per child though both parents are local; none to the father or the child
    assert {g[3] for g in childcare} == {"awaiting_confirmation"}  # the policy asks first
    bundle = _grants(engine, "birth-bundle")
    assert [(g[1], g[2]) for g in bundle] == [("B2025-0615", mother)]
    assert not _rows(engine, "SELECT id FROM benefit_grant WHERE subject_key = :f", f=father)

    messages = _rows(engine, "SELECT subject_key, event_kind FROM notification ORDER BY id")
    assert {(key, kind) for key, kind in messages if kind == "confirmation_needed"} == {
        (mother, "confirmation_needed")}
    assert sum(1 for _, kind in messages if kind == "confirmation_needed") == 3  # per grant
    assert not [m for m in messages if m[0] in ("B2023-0820", "B2025-0615")]

    june = childcare[1][5]
    with Session(engine, expire_on_commit=False) as session:
        ctx = SweepContext(session=session, backend_or_none=None, as_of=date(2025, 7, 2),
                           actor="citizen")
        confirm(ctx, june, accepted=True)
        session.commit()
    ledger = _rows(engine, "SELECT subject_key, period, amount_fen, status FROM payment "
                           "WHERE grant_id = :g", g=june)
    assert ledger == [(mother, "2025", 210_000, "due")]  # the guardian is paid, yearly
    granted = _rows(engine, "SELECT subject_key FROM notification WHERE event_kind = 'granted'")
    assert granted == [(mother,)]

    with time_machine.travel(datetime(2025, 7, 3, 1, 0, tzinfo=UTC), tick=False):
        report = ingest_lines(engine, [json.dumps({
            "event_id": "D-CHILD", "kind": "death", "source_dept": "health",
            "occurred_on": "2025-07-02", "record": {
                "id_number": JUNE_CHILD, "date_of_death": "2025-07-02",
                "source_kind": "hospital", "as_of": "2025-07-02"}})], date(2025, 7, 3))
    assert report.suspended_grants == 1
    assert _rows(engine, "SELECT state FROM benefit_grant WHERE id = :g", g=june) == [
        ("suspended",)]
    assert _rows(engine, "SELECT status FROM payment WHERE grant_id = :g", g=june) == [("held",)]
