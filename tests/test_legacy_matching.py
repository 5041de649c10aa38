"""Payments the legacy systems already made are not paid again: the bundled policies are matched
to the benefit codes of the ``legacy_payment`` dataset through each policy's declared
``legacy_benefit_code``, and a sweep with the real engine marks a period the legacy system paid
as ``legacy`` (no money out), on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app import migrations
from app.datahub.catalog import LEGACY_BENEFIT_CODES
from app.datahub.synth import generate_city
from app.datahub.synth.life_events import LONGEVITY_BENEFIT
from app.db import engine_for
from eligibility.policy import load_file
from eligibility.policy.loader import policy_files
from eligibility.service import POLICY_DIR
from eligibility.sweeps.backend import PolicySpec
from eligibility.sweeps.engine_backend import EngineBackend, to_spec
from eligibility.sweeps.service import run_sweep
from tests.eligibility.test_repository import valid_data_key
from tests.support import data
from tests.support.queries import grants_of, ledger

__all__ = ["valid_data_key"]  # autouse fixture: a valid development data key

AS_OF = date(2025, 3, 1)


def test_a_period_the_legacy_system_paid_is_not_paid_again(engine: Engine) -> None:
    paid_before = data.add_person(engine, 1, date(1955, 1, 10))  # 70 in January 2025
    never_paid = data.add_person(engine, 2, date(1955, 1, 12))
    # The legacy data, under the code the synthetic legacy system pays the allowance with.
    for period in ("2025-03", "2025-04"):
        data.add_legacy_payment(engine, 1, period, 5_000, LONGEVITY_BENEFIT)

    run_sweep(AS_OF, full=True, engine=engine, backend=EngineBackend(engine))
    run_sweep(date(2025, 5, 1), engine=engine, backend=EngineBackend(engine))
    run_sweep(date(2025, 5, 1), full=True, engine=engine, backend=EngineBackend(engine))

    [grant] = grants_of(engine, paid_before, "longevity-allowance")
    assert ledger(engine, grant.id) == [
        ("2025-03", "regular", 5_000, "legacy", False),  # the legacy amount, nothing paid
        ("2025-04", "regular", 5_000, "legacy", True),
        ("2025-05", "regular", 7_500, "due", False),
    ]
    [other] = grants_of(engine, never_paid, "longevity-allowance")
    assert [row[3] for row in ledger(engine, other.id)] == ["due", "due", "due"]


def _bundled() -> dict[str, PolicySpec]:
    return {spec.id: spec for spec in (to_spec(load_file(p)) for p in policy_files(POLICY_DIR))}


def test_each_legacy_code_is_declared_by_the_bundled_policy_that_pays_it_now() -> None:
    specs = _bundled()
    declared = {s.id: s.legacy_benefit_code for s in specs.values() if s.legacy_benefit_code}
    assert declared == {policy: code for code, policy in LEGACY_BENEFIT_CODES.items()}
    # The others are matched under their own id; no two policies share a code.
    codes = [s.legacy_benefit_code or s.id for s in specs.values()]
    assert len(set(codes)) == len(codes)


def test_the_synthetic_legacy_payments_use_only_catalogued_codes(tmp_path: Path) -> None:
    generate_city(tmp_path, persons=0, enterprises=0, seed=3, dirty_share=0)
    frame = pl.read_csv(tmp_path / "legacy_payment.csv", infer_schema=False)
    assert frame.height > 0
    assert set(frame["benefit_code"]) <= set(LEGACY_BENEFIT_CODES)


def test_the_migration_gives_older_grants_the_legacy_code(db_url: str) -> None:
    """A grant made before the policy declared its code is matched after ``db upgrade``."""
    engine = engine_for(db_url)
    migrations.downgrade(db_url, "0006_sweep")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO benefit_grant (id, policy_id, policy_version, subject_kind, subject_key,"
            " episode, state, is_open, benefit_kind, benefit_code, period_kind, process_steps,"
            " review_flags, start_date, created_at, updated_at) VALUES (1,"
            " 'longevity-allowance', 'v', 'person', 'k', 1, 'granted', true, 'recurring_cash',"
            " 'longevity-allowance', 'month', '', '', :d, :t, :t)"
        ), {"d": date(2025, 1, 1), "t": datetime(2025, 1, 1, tzinfo=UTC)})
    migrations.upgrade(db_url)
    with engine.connect() as connection:
        code = connection.execute(text("SELECT benefit_code FROM benefit_grant")).scalar_one()
    assert code == "longevity_allowance"
