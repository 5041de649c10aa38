"""The grant lifecycle with frozen dates on both databases: ending on death (with recovery of
payments made after the date of death), moving away, losing a status, public notice with an
objection that pauses it, internal review and confirmation, the manual review queue for
flagged cases, suspension and resumption with back-pay, and the payment batch file."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from eligibility.grants.context import SweepContext
from eligibility.grants.review import (
    confirm,
    decide_review,
    file_objection,
    refuse_automation,
    resolve_objection,
    resume,
    suspend,
)
from eligibility.grants.workdays import add_working_days
from eligibility.payments.batch import create_batch
from eligibility.sweeps.service import run_sweep
from tests.support import data
from tests.support.evaluator import (
    CONFIRMED,
    ELDERLY_CARD,
    JOB_RETENTION,
    LONGEVITY,
    TestBackend,
)
from tests.support.queries import (
    counts,
    event_reasons,
    grant,
    grants_of,
    ledger,
    open_review,
    recoveries,
)

LONGEVITY_ONLY = TestBackend([LONGEVITY])


def officer(engine: Engine, as_of: date) -> tuple[Session, SweepContext]:
    session = Session(engine, expire_on_commit=False)
    return session, SweepContext(session=session, backend_or_none=None, as_of=as_of,
                                 actor="officer:zhang")


def batch(engine: Engine, period: str, out: Path) -> Path:
    with Session(engine) as session:
        _, path = create_batch(session, period, out)
        session.commit()
    return path


def test_death_reported_late_ends_the_grant_and_recovers_what_was_paid_after(
    engine: Engine, tmp_path: Path
) -> None:
    chen = data.add_person(engine, 20, date(1950, 3, 3))
    run_sweep(date(2025, 10, 1), full=True, engine=engine, backend=LONGEVITY_ONLY)
    batch(engine, "2025-10", tmp_path)
    run_sweep(date(2025, 11, 1), engine=engine, backend=LONGEVITY_ONLY)
    batch(engine, "2025-11", tmp_path)
    run_sweep(date(2025, 12, 1), engine=engine, backend=LONGEVITY_ONLY)  # December due, unpaid
    # The hospital's death record (died 15 October) arrives in December.
    data.add_death(engine, 20, date(2025, 10, 15))

    run_sweep(date(2025, 12, 5), engine=engine, backend=LONGEVITY_ONLY)

    [ended] = grants_of(engine, chen)
    assert (ended.state, ended.end_reason, ended.end_date) == ("ended", "death", date(2025, 10, 15))
    assert ledger(engine, ended.id) == [
        ("2025-10", "regular", 10_000, "batched", False),  # the month of death is paid
        ("2025-11", "regular", 10_000, "batched", False),
        ("2025-12", "regular", 10_000, "cancelled", False),
    ]
    assert recoveries(engine, ended.id) == [("2025-11", 10_000, "paid_after_end")]
    before = counts(engine)
    run_sweep(date(2025, 12, 5), full=True, engine=engine, backend=LONGEVITY_ONLY)
    run_sweep(date(2026, 1, 1), engine=engine, backend=LONGEVITY_ONLY)
    assert counts(engine)["recovery_item"] == before["recovery_item"]
    assert counts(engine)["payment"] == before["payment"]


def test_moving_away_ends_the_grant_on_the_move_date(engine: Engine) -> None:
    li = data.add_person(engine, 21, date(1949, 1, 1))
    run_sweep(date(2025, 10, 1), full=True, engine=engine, backend=LONGEVITY_ONLY)
    data.add_move_out(engine, 21, date(2025, 10, 20))
    data.update_person(engine, 21, status="moved_out")
    run_sweep(date(2025, 10, 21), engine=engine, backend=LONGEVITY_ONLY)
    [ended] = grants_of(engine, li)
    assert (ended.state, ended.end_reason, ended.end_date) == (
        "ended", "moved_away", date(2025, 10, 20)
    )
    # Coming back later starts a new grant (a second episode), the first stays ended.
    data.update_person(engine, 21, status="active")
    run_sweep(date(2026, 2, 1), engine=engine, backend=LONGEVITY_ONLY)
    first, second = grants_of(engine, li)
    assert (first.state, second.state, second.episode) == ("ended", "granted", 2)


def test_status_lost_ends_the_grant_and_ineligible_before_grant_is_withdrawn(
    engine: Engine,
) -> None:
    wu = data.add_person(engine, 22, date(1950, 6, 1))
    data.add_enterprise(engine, 22)
    backend = TestBackend([LONGEVITY, JOB_RETENTION])
    run_sweep(date(2025, 10, 1), full=True, engine=engine, backend=backend)
    data.update_person(engine, 22, region_code="440605")  # 户籍 moved to another district
    data.update_enterprise(engine, 22, region_code="440605")
    run_sweep(date(2025, 10, 9), engine=engine, backend=backend)
    [ended] = grants_of(engine, wu)
    assert (ended.state, ended.end_reason) == ("ended", "status_lost")
    [withdrawn] = grants_of(engine, data.uscc(22), "test-job-retention")
    assert withdrawn.state == "withdrawn"


def test_public_notice_objection_pauses_the_window(engine: Engine) -> None:
    firm = data.add_enterprise(engine, 30)
    day0 = date(2025, 11, 3)  # a Monday
    run_sweep(day0, full=True, engine=engine, backend=TestBackend([JOB_RETENTION]))
    [notice] = grants_of(engine, firm, "test-job-retention")
    assert notice.state == "public_notice"
    assert notice.notice_ends_on == add_working_days(day0, 5) == date(2025, 11, 10)

    session, ctx = officer(engine, date(2025, 11, 5))
    objection = file_objection(ctx, notice.id or 0, "该企业存在裁员情况")
    session.commit()
    assert grant(engine, notice.id).notice_remaining_days == 3
    # While the objection is pending the window does not elapse.
    run_sweep(date(2025, 11, 20), engine=engine, backend=TestBackend([JOB_RETENTION]))
    assert grant(engine, notice.id).state == "objection_pending"

    session, ctx = officer(engine, date(2025, 11, 24))
    resolve_objection(ctx, objection.id or 0, upheld=False, note="经核查不属实")
    session.commit()
    resumed = grant(engine, notice.id)
    assert (resumed.state, resumed.notice_ends_on) == ("public_notice", date(2025, 11, 27))
    run_sweep(date(2025, 11, 27), engine=engine, backend=TestBackend([JOB_RETENTION]))
    assert grant(engine, notice.id).state == "public_notice"
    run_sweep(date(2025, 11, 28), engine=engine, backend=TestBackend([JOB_RETENTION]))
    granted = grant(engine, notice.id)
    assert granted.state == "granted"
    assert ledger(engine, granted.id) == [("2025-11", "regular", 300_000, "due", False)]
    assert [to for _, to, _ in event_reasons(engine, granted.id)] == [
        "public_notice", "objection_pending", "public_notice", "granted"
    ]


def test_upheld_objection_rejects(engine: Engine) -> None:
    firm = data.add_enterprise(engine, 31)
    run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=TestBackend([JOB_RETENTION]))
    [notice] = grants_of(engine, firm, "test-job-retention")
    session, ctx = officer(engine, date(2025, 11, 4))
    objection = file_objection(ctx, notice.id or 0, "不符合条件")
    session.commit()
    session, ctx = officer(engine, date(2025, 11, 6))
    resolve_objection(ctx, objection.id or 0, upheld=True, note="异议成立")
    session.commit()
    assert grant(engine, notice.id).state == "rejected"
    run_sweep(date(2025, 12, 1), engine=engine, backend=TestBackend([JOB_RETENTION]))
    assert [g.state for g in grants_of(engine, firm, "test-job-retention")] == ["rejected"]


def test_internal_review_then_confirmation_then_granted(engine: Engine) -> None:
    zhao = data.add_person(engine, 40, date(1958, 1, 1))
    run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=TestBackend([CONFIRMED]))
    [pending] = grants_of(engine, zhao, "test-confirmed")
    assert pending.state == "internal_review"
    review = open_review(engine, pending.id)
    session, ctx = officer(engine, date(2025, 11, 4))
    decide_review(ctx, review.id or 0, approve=True, note="材料齐全")
    session.commit()
    assert grant(engine, pending.id).state == "awaiting_confirmation"
    session, ctx = officer(engine, date(2025, 11, 6))
    confirm(ctx, pending.id or 0, accepted=True)
    session.commit()
    assert grant(engine, pending.id).state == "granted"
    assert ledger(engine, pending.id) == [("2025-11", "regular", 5_000, "due", False)]


def test_flagged_cases_wait_for_an_officer_whose_decision_is_recorded(engine: Engine) -> None:
    no_mobile = data.add_person(engine, 50, date(1950, 1, 1), mobile=False)
    refused = data.add_person(engine, 51, date(1950, 1, 1))
    disputed = data.add_person(engine, 52, date(1950, 1, 1))  # registry active, hospital: dead
    data.add_death(engine, 52, date(2025, 9, 1))
    big = data.add_enterprise(engine, 53, size="large")  # 5,000,000 fen > threshold
    with Session(engine) as session:
        refuse_automation(session, refused)
        session.commit()
    backend = TestBackend([LONGEVITY, ELDERLY_CARD, JOB_RETENTION])
    run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=backend)

    [a] = grants_of(engine, no_mobile)
    [b] = grants_of(engine, refused)
    [c] = grants_of(engine, disputed, "test-elderly-card")
    [d] = grants_of(engine, big, "test-job-retention")
    assert {g.state for g in (a, b, c, d)} == {"manual_review"}
    assert (a.review_flags, b.review_flags, c.review_flags, d.review_flags) == (
        "no_mobile", "refused_automation", "departments_disagree", "amount_above_threshold"
    )
    session, ctx = officer(engine, date(2025, 11, 4))
    decide_review(ctx, open_review(engine, a.id).id or 0, approve=True, note="已电话核实")
    decide_review(ctx, open_review(engine, c.id).id or 0, approve=False, note="确认已死亡")
    decide_review(ctx, open_review(engine, d.id).id or 0, approve=True, note="金额核实无误")
    session.commit()
    assert grant(engine, a.id).state == "granted"
    assert grant(engine, c.id).state == "rejected"
    assert grant(engine, d.id).state == "public_notice"  # approval continues the process
    assert ledger(engine, a.id) == [("2025-11", "regular", 10_000, "due", False)]
    last = event_reasons(engine, a.id)[-1]
    assert last == ("manual_review", "granted", "flagged_review_approved")


def test_suspension_holds_payments_and_resumption_back_pays(engine: Engine) -> None:
    sun = data.add_person(engine, 60, date(1950, 1, 1))
    run_sweep(date(2025, 10, 1), full=True, engine=engine, backend=LONGEVITY_ONLY)
    [g] = grants_of(engine, sun)
    session, ctx = officer(engine, date(2025, 10, 2))
    with session:
        held = session.get(type(g), g.id)
        assert held is not None
        suspend(ctx, [held], "officer_hold", "待核实")
        from eligibility.grants.review import finish

        finish(ctx)
        session.commit()
    assert ledger(engine, g.id) == [("2025-10", "regular", 10_000, "held", False)]
    run_sweep(date(2025, 11, 1), engine=engine, backend=LONGEVITY_ONLY)
    run_sweep(date(2025, 12, 1), engine=engine, backend=LONGEVITY_ONLY)
    assert len(ledger(engine, g.id)) == 1  # nothing accrues while suspended
    session, ctx = officer(engine, date(2025, 12, 3))
    resume(ctx, g.id or 0, "verified_alive")
    session.commit()
    assert ledger(engine, g.id) == [
        ("2025-10", "regular", 10_000, "due", False),
        ("2025-11", "regular", 10_000, "due", True),
        ("2025-12", "regular", 10_000, "due", False),
    ]


def test_payment_batch_is_written_once_per_period_with_totals_and_checksum(
    engine: Engine, tmp_path: Path
) -> None:
    for number in range(70, 73):
        data.add_person(engine, number, date(1950, 1, 1))
    data.add_person(engine, 73, date(1930, 1, 1))
    run_sweep(date(2025, 11, 1), full=True, engine=engine, backend=LONGEVITY_ONLY)
    path = batch(engine, "2025-11", tmp_path)
    content = path.read_bytes()
    lines = content.decode().splitlines()
    assert lines[0].startswith("payment_id,grant_id,policy_id,payee_key")
    assert lines[-1] == "TOTAL,2025-11,4,80000"
    assert (tmp_path / "payments-2025-11.csv.sha256").read_text().split()[0] == (
        hashlib.sha256(content).hexdigest()
    )
    before = counts(engine)
    path.unlink()
    again = batch(engine, "2025-11", tmp_path)
    assert again.read_bytes() == content and counts(engine) == before
    run_sweep(date(2025, 12, 1), engine=engine, backend=LONGEVITY_ONLY)
    december = batch(engine, "2025-12", tmp_path).read_text().splitlines()
    assert december[-1] == "TOTAL,2025-12,4,80000"
