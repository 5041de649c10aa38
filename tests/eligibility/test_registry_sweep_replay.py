"""The registry drives sweeps and replays, on real SQLite and PostgreSQL: a sweep evaluates the
version in force (a revision with another amount), decisions record its content hash, replaying
them is identical, and tampering with a recorded input or the stored policy text is reported."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from eligibility.grants.models import Decision
from eligibility.replay.schemas import ReplayReport
from eligibility.replay.service import replay
from eligibility.sweeps.engine_backend import EngineBackend
from eligibility.sweeps.service import run_sweep
from tests.eligibility.registry_helpers import approved, longevity_paying
from tests.eligibility.test_repository import AS_OF, populate, valid_data_key

__all__ = ["valid_data_key"]  # autouse fixture: a valid development data key


def _decisions(engine: Engine, policy_id: str) -> list[Decision]:
    with Session(engine) as session:
        statement = select(Decision).where(Decision.policy_id == policy_id)
        statement = statement.order_by(col(Decision.id))
        return list(session.exec(statement).all())


def _replay(engine: Engine, decision_id: int) -> ReplayReport:
    with Session(engine) as session:
        return replay(session, decision_id)


def test_sweep_uses_the_version_in_force_and_replays_identically(engine: Engine) -> None:
    populate(engine)
    revision = approved(engine, longevity_paying(8_800), date(2025, 1, 1))
    report = run_sweep(AS_OF, full=True, engine=engine, backend=EngineBackend(engine))
    assert report.status == "done"
    decisions = _decisions(engine, "longevity-allowance")
    eligible = [d for d in decisions if d.eligible]
    assert len(eligible) == 3 and {d.policy_version for d in decisions} == {revision}
    assert 8_800 in {d.amount_fen for d in eligible}  # the revision's amount, not the file's
    for decision in decisions:
        assert decision.id is not None
        result = _replay(engine, decision.id)
        assert result.outcome == "identical", result.differences
    # another bundled policy not in the registry still comes from its file
    assert _decisions(engine, "elderly-card")


def test_a_tampered_input_or_policy_text_replays_as_different(engine: Engine) -> None:
    populate(engine)
    revision = approved(engine, longevity_paying(8_800), date(2025, 1, 1))
    run_sweep(AS_OF, full=True, engine=engine, backend=EngineBackend(engine))
    decision = next(d for d in _decisions(engine, "longevity-allowance")
                    if d.eligible and d.amount_fen == 8_800)
    assert decision.id is not None
    inputs = json.loads(decision.inputs)
    inputs["person"][0]["birth_date"] = "1990-01-01"
    with engine.begin() as connection:
        connection.execute(text("UPDATE decision SET inputs = :i WHERE id = :d"),
                           {"i": json.dumps(inputs), "d": decision.id})
    result = _replay(engine, decision.id)
    fields = {d.field: d for d in result.differences}
    assert result.outcome == "different"
    assert "inputs_hash" in fields and fields["eligible"].replayed is False

    other = next(d for d in _decisions(engine, "longevity-allowance")
                 if d.eligible and d.id != decision.id)
    assert other.id is not None
    with engine.begin() as connection:
        connection.execute(text("UPDATE policy_version SET text = :t WHERE content_hash = :h"),
                           {"t": longevity_paying(1), "h": revision})
    altered = _replay(engine, other.id)
    fields = {d.field: d for d in altered.differences}
    assert altered.outcome == "different" and fields["policy_version"].recorded == revision
    if other.amount_fen == 8_800:
        assert fields["amount_fen"].replayed == 1


def test_a_retired_policy_is_no_longer_swept(engine: Engine) -> None:
    from eligibility.registry import service

    populate(engine)
    revision = approved(engine, longevity_paying(8_800), date(2025, 1, 1))
    with Session(engine) as session:
        service.retire(session, service.resolve(session, revision), "approver.zhao")
        session.commit()
    run_sweep(AS_OF, full=True, engine=engine, backend=EngineBackend(engine))
    assert _decisions(engine, "longevity-allowance") == []
