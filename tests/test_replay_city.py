"""Replay on a demo-like run: a small synthetic city imported (dirty rows quarantined), the
bundled catalog published into the registry, a full sweep with the real engine; a sample of
decisions of every policy swept replays identical, and each recorded its policy's registry hash."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.datahub import service as datahub
from app.datahub.synth import REFERENCE_DATE, generate_city
from eligibility.grants.models import Decision
from eligibility.registry.catalog import publish_folder
from eligibility.replay.service import replay
from eligibility.service import POLICY_DIR
from eligibility.sweeps.engine_backend import EngineBackend
from eligibility.sweeps.service import run_sweep
from tests.eligibility.test_repository import valid_data_key

PER_POLICY = 8
__all__ = ["valid_data_key"]  # autouse fixture: a valid development data key


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("replay-city")
    generate_city(out, persons=5_000, enterprises=600, seed=11, as_of=REFERENCE_DATE)
    return out


def test_a_sample_of_decisions_replays_identical(engine: Engine, city: Path) -> None:
    datahub.import_path(engine, city)
    with Session(engine) as session:
        published = {p.policy_id: p.content_hash for p in publish_folder(session, POLICY_DIR)}
        session.commit()
    report = run_sweep(REFERENCE_DATE, full=True, engine=engine, backend=EngineBackend(engine))
    assert report.status == "done"
    with Session(engine) as session:
        decisions = session.exec(select(Decision).order_by(col(Decision.id))).all()
        by_policy: dict[str, list[Decision]] = {}
        for decision in decisions:
            by_policy.setdefault(decision.policy_id, []).append(decision)
        assert {"longevity-allowance", "elderly-card", "job-retention-refund"} <= set(by_policy)
        sample = [
            d for rows in by_policy.values()
            for d in random.Random(7).sample(rows, min(PER_POLICY, len(rows)))
        ]
        assert all(d.policy_version == published[d.policy_id] for d in decisions)
        for decision in sample:
            assert decision.id is not None
            result = replay(session, decision.id)
            assert result.outcome == "identical", (decision.policy_id, result.differences)
