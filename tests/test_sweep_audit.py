"""A sweep's entries in the audit log, on real SQLite and PostgreSQL: one entry per decision,
grant event and ledger row, written in the sweep's own transaction; an auditor can match each
decision to its entry by id and hashes (no personal data in the log); re-running the sweep logs
nothing new, and the log verifies against a signed tree head."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from eligibility.grants.models import Decision
from eligibility.sweeps.service import run_sweep
from tests.support import data
from tests.support.evaluator import ELDERLY_CARD, JOB_RETENTION, LONGEVITY, TestBackend
from tests.support.queries import audit_entries, audit_verifies, counts

BACKEND = TestBackend([LONGEVITY, ELDERLY_CARD, JOB_RETENTION])
LOOKS_LIKE_AN_ID_NUMBER = 101046  # its USCC also checks as a resident ID number


def _populate(engine: Engine) -> None:
    for number in range(1, 13):
        data.add_person(engine, number, date(1930 + 5 * number, 1 + number % 12, 3))
    data.add_enterprise(engine, 1, size="small")
    data.add_enterprise(engine, LOOKS_LIKE_AN_ID_NUMBER, size="small")
    data.add_legacy_payment(engine, 2, "2025-11", 10_000, "GJ-LONGEVITY")


def test_every_decision_grant_event_and_payment_is_logged_once(engine: Engine) -> None:
    _populate(engine)

    report = run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=BACKEND)

    held = counts(engine)
    logged = audit_entries(engine)
    assert held["decision"] > 0 and held["payment"] > 0
    assert report.counts["audit_entries"] == sum(len(v) for v in logged.values())
    assert len(logged["decision"]) == held["decision"]
    assert len(logged["grant_state"]) == held["grant_event"]
    assert len(logged["payment"]) == held["payment"]
    with Session(engine) as session:
        rows = session.exec(select(Decision).order_by(col(Decision.id))).all()
        decisions = {str(d.id): d for d in rows}
    for payload in logged["decision"]:
        decision = decisions[str(payload["record_id"])]
        assert payload["subject_key"] in (decision.subject_key, f"uscc:{decision.subject_key}")
        assert payload["policy_version_hash"] == decision.policy_version
        assert payload["input_snapshot_hash"] == decision.inputs_hash
        assert payload["input_snapshot_hash"] == hashlib.sha256(
            decision.inputs.encode()).hexdigest()
        assert payload["explanation_hash"] == hashlib.sha256(
            decision.explanation.encode()).hexdigest()
        assert payload["result"] == {"eligible": decision.eligible, "tier": decision.tier,
                                     "amount_fen": decision.amount_fen}
        assert "inputs" not in payload  # hashes only: the snapshot stays in the decision row
    with engine.connect() as connection:
        event_ids = {str(r[0]) for r in connection.execute(text("SELECT id FROM grant_event"))}
        payment_ids = {str(r[0]) for r in connection.execute(text("SELECT id FROM payment"))}
    assert {p["record_id"] for p in logged["grant_state"]} == event_ids
    assert {p["record_id"] for p in logged["payment"]} == payment_ids
    assert any(p["status"] == "legacy" for p in logged["payment"])
    enterprise = f"uscc:{data.uscc(LOOKS_LIKE_AN_ID_NUMBER)}"  # never bare: the guard refuses it
    assert [p["to_state"] for p in logged["grant_state"] if p["subject_key"] == enterprise] == [
        "public_notice"]
    assert audit_verifies(engine)

    before = sum(len(v) for v in audit_entries(engine).values())
    again = run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=BACKEND)
    assert "audit_entries" not in again.counts
    assert sum(len(v) for v in audit_entries(engine).values()) == before


def test_changes_in_a_later_sweep_are_logged_with_their_decision(engine: Engine) -> None:
    _populate(engine)
    run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=BACKEND)
    first = audit_entries(engine)
    with engine.begin() as connection:  # person 4 moves away: the grant ends, ledger reconciled
        connection.execute(text(
            "UPDATE person SET region_code = '110101', updated_at = CURRENT_TIMESTAMP "
            "WHERE subject_key = :key"), {"key": data.key(4)})

    run_sweep(date(2025, 12, 2), engine=engine, backend=BACKEND)

    logged = audit_entries(engine)
    new_states = logged["grant_state"][len(first["grant_state"]):]
    ended = [p for p in new_states if p["subject_key"] == data.key(4)]
    assert ended and all(p["to_state"] == "ended" for p in ended)
    decision_refs = {p["record_id"] for p in logged["decision"]}
    assert all(p["decision_record_id"] in decision_refs for p in ended)
    assert len(logged["payment"]) > len(first["payment"])  # the December period came due
    assert audit_verifies(engine)


def test_an_officers_decision_is_logged_in_the_same_transaction(engine: Engine) -> None:
    from sqlmodel import Session as OrmSession

    from eligibility.grants.context import SweepContext
    from eligibility.grants.review import decide_review
    from tests.support.queries import grants_of, open_review

    unreachable = data.add_person(engine, 40, date(1950, 3, 3), mobile=False)  # flagged
    run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=TestBackend([LONGEVITY]))
    [grant] = grants_of(engine, unreachable)
    assert grant.state == "manual_review"
    before = audit_entries(engine)["grant_state"]

    with OrmSession(engine, expire_on_commit=False) as session:
        ctx = SweepContext(session=session, backend_or_none=None, as_of=date(2025, 11, 4),
                           actor="officer:zhang")
        decide_review(ctx, open_review(engine, grant.id).id or 0, approve=True)
        session.commit()

    after = audit_entries(engine)["grant_state"]
    [logged] = after[len(before):]
    assert (logged["grant_id"], logged["from_state"], logged["to_state"]) == (
        str(grant.id), "manual_review", "granted")
    assert logged["reason"] == "flagged_review_approved"
    assert audit_verifies(engine)
