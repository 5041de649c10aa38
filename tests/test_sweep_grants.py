"""Sweeps turn changed outcomes into decisions, grants and ledger rows, exactly once, on real
SQLite and PostgreSQL, with dates frozen by passing them explicitly (nothing reads the clock for
a business date). The evaluator is the test-code backend over real rows (see
``tests/support/evaluator.py``)."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy.engine import Engine

from eligibility.sweeps.service import run_sweep
from tests.support import data
from tests.support.evaluator import ELDERLY_CARD, JOB_RETENTION, LONGEVITY, TestBackend
from tests.support.queries import counts, current_decision, event_reasons, grants_of, ledger

LONGEVITY_ONLY = TestBackend([LONGEVITY])


def test_full_sweep_grants_and_a_second_sweep_creates_nothing(engine: Engine) -> None:
    old = data.add_person(engine, 1, date(1950, 5, 1))
    young = data.add_person(engine, 2, date(1990, 5, 1))
    away = data.add_person(engine, 3, date(1940, 5, 1), region="110101")
    nonagenarian = data.add_person(engine, 4, date(1933, 1, 1))
    data.add_enterprise(engine, 1, size="small")
    backend = TestBackend([LONGEVITY, ELDERLY_CARD, JOB_RETENTION])

    report = run_sweep(date(2025, 11, 1), full=True, engine=engine, backend=backend)

    assert report.status == "done" and report.mode == "full"
    assert [g.state for g in grants_of(engine, old)] == ["granted"]
    assert grants_of(engine, young) == [] and grants_of(engine, away) == []
    [grant] = grants_of(engine, nonagenarian)
    assert (grant.tier, grant.amount_fen, grant.start_period) == ("90+", 50_000, "2025-11")
    assert ledger(engine, grant.id) == [("2025-11", "regular", 50_000, "due", False)]
    [card] = grants_of(engine, old, "test-elderly-card")
    assert card.state == "granted" and ledger(engine, card.id) == []
    [refund] = grants_of(engine, data.uscc(1), "test-job-retention")
    assert refund.state == "public_notice"
    decision = current_decision(engine, old, "test-longevity")
    assert decision.policy_version == "v1-longevity" and decision.engine_version
    assert json.loads(decision.parameters)["amount_70"] == 10_000
    assert json.loads(decision.explanation)["age"] == 75
    assert json.loads(decision.inputs)["person"][0]["birth_date"] == "1950-05-01"

    before = counts(engine)
    again = run_sweep(date(2025, 11, 1), full=True, engine=engine, backend=backend)
    assert again.status == "done"
    assert counts(engine) == before
    incremental = run_sweep(date(2025, 11, 1), engine=engine, backend=backend)
    assert incremental.mode == "incremental" and counts(engine) == before


def test_the_allowance_is_granted_on_the_70th_birthday(engine: Engine) -> None:
    chen = data.add_person(engine, 10, date(1955, 11, 22))
    run_sweep(date(2025, 11, 20), full=True, engine=engine, backend=LONGEVITY_ONLY)
    run_sweep(date(2025, 11, 21), engine=engine, backend=LONGEVITY_ONLY)
    assert grants_of(engine, chen) == []

    report = run_sweep(date(2025, 11, 22), engine=engine, backend=LONGEVITY_ONLY)

    assert report.mode == "incremental"
    [grant] = grants_of(engine, chen)
    assert (grant.state, grant.start_period) == ("granted", "2025-11")
    assert grant.start_date == date(2025, 11, 22)
    assert ledger(engine, grant.id) == [("2025-11", "regular", 10_000, "due", False)]
    # The next month the ledger grows by one period, at the dated parameter's new value in 2026.
    run_sweep(date(2025, 12, 1), engine=engine, backend=LONGEVITY_ONLY)
    run_sweep(date(2026, 1, 1), engine=engine, backend=LONGEVITY_ONLY)
    assert ledger(engine, grant.id) == [
        ("2025-11", "regular", 10_000, "due", False),
        ("2025-12", "regular", 10_000, "due", False),
        ("2026-01", "regular", 12_000, "due", False),
    ]


def test_leap_day_birthday_triggers_in_a_common_year(engine: Engine) -> None:
    leap = data.add_person(engine, 11, date(1956, 2, 29))
    run_sweep(date(2026, 2, 27), full=True, engine=engine, backend=LONGEVITY_ONLY)
    assert grants_of(engine, leap) == []
    run_sweep(date(2026, 3, 1), engine=engine, backend=LONGEVITY_ONLY)
    [grant] = grants_of(engine, leap)
    assert grant.start_period == "2026-03"


def test_retier_takes_effect_from_the_month_after_the_birthday(engine: Engine) -> None:
    wang = data.add_person(engine, 12, date(1945, 12, 10))
    run_sweep(date(2025, 12, 1), full=True, engine=engine, backend=LONGEVITY_ONLY)
    [grant] = grants_of(engine, wang)
    assert grant.tier == "70-79"

    run_sweep(date(2025, 12, 10), engine=engine, backend=LONGEVITY_ONLY)
    run_sweep(date(2026, 1, 2), engine=engine, backend=LONGEVITY_ONLY)

    [grant] = grants_of(engine, wang)
    assert (grant.state, grant.tier, grant.amount_fen) == ("granted", "80-89", 20_000)
    assert ledger(engine, grant.id) == [
        ("2025-12", "regular", 10_000, "due", False),
        ("2026-01", "regular", 20_000, "due", False),
    ]
    assert [reason for _, _, reason in event_reasons(engine, grant.id)] == ["matched", "retiered"]


def test_late_data_is_back_paid_from_when_eligibility_began(engine: Engine) -> None:
    data.add_person(engine, 13, date(1950, 1, 1))  # someone, so the go-live sweep has data
    run_sweep(date(2025, 9, 1), full=True, engine=engine, backend=LONGEVITY_ONLY)
    run_sweep(date(2025, 10, 1), engine=engine, backend=LONGEVITY_ONLY)
    # Turned 70 on 15 September, but the registry row only arrives on 20 November.
    li = data.add_person(engine, 14, date(1955, 9, 15))
    data.add_legacy_payment(engine, 14, "2025-10", 10_000, "GJ-LONGEVITY")

    run_sweep(date(2025, 11, 20), engine=engine, backend=LONGEVITY_ONLY)

    [grant] = grants_of(engine, li)
    assert grant.start_period == "2025-09"
    assert ledger(engine, grant.id) == [
        ("2025-09", "regular", 10_000, "due", True),
        ("2025-10", "regular", 10_000, "legacy", True),
        ("2025-11", "regular", 10_000, "due", False),
    ]
