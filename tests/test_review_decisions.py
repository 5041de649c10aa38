"""The manual review queue on a frozen clock, both databases: each flag (departments disagree,
no mobile, amount above the threshold, refused automation) queues its grant, and the officer's
decision on each is recorded with who, when, the note and the outcome, on the review item and
in the grant's history; a decided item cannot be decided twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.errors import Conflict
from eligibility.grants.context import SweepContext
from eligibility.grants.models import GrantEvent, ReviewItem
from eligibility.grants.review import decide_review, refuse_automation
from eligibility.sweeps.service import run_sweep
from tests.support import data
from tests.support.evaluator import ELDERLY_CARD, JOB_RETENTION, LONGEVITY, TestBackend
from tests.support.queries import grant, grants_of, open_review

DECIDED_AT = datetime(2025, 11, 4, 2, 30, tzinfo=UTC)  # 10:30 in Foshan


def test_every_flag_waits_for_an_officer_whose_decision_is_recorded(engine: Engine) -> None:
    no_mobile = data.add_person(engine, 50, date(1950, 1, 1), mobile=False)
    refused = data.add_person(engine, 51, date(1950, 1, 1))
    disputed = data.add_person(engine, 52, date(1950, 1, 1))
    data.add_death(engine, 52, date(2025, 9, 1))  # hospital: dead; registry: active
    big = data.add_enterprise(engine, 53, size="large")
    with Session(engine) as session:
        refuse_automation(session, refused)
        session.commit()
    backend = TestBackend([LONGEVITY, ELDERLY_CARD, JOB_RETENTION])
    with time_machine.travel(datetime(2025, 11, 3, 16, 20, tzinfo=UTC), tick=False):
        run_sweep(date(2025, 11, 3), full=True, engine=engine, backend=backend)
    queued = {
        "no_mobile": grants_of(engine, no_mobile)[0],
        "refused_automation": grants_of(engine, refused)[0],
        "departments_disagree": grants_of(engine, disputed, "test-elderly-card")[0],
        "amount_above_threshold": grants_of(engine, big, "test-job-retention")[0],
    }
    decisions = {
        "no_mobile": (True, "社区已上门核实"), "refused_automation": (True, "人工复核通过"),
        "departments_disagree": (False, "医院确认已死亡"),
        "amount_above_threshold": (True, "金额核实无误"),
    }
    items = {}
    for flag, queued_grant in queued.items():
        assert (queued_grant.state, queued_grant.review_flags) == ("manual_review", flag)
        items[flag] = open_review(engine, queued_grant.id)

    with time_machine.travel(DECIDED_AT, tick=False), Session(
        engine, expire_on_commit=False
    ) as session:
        for flag, (approve, note) in decisions.items():
            ctx = SweepContext(session=session, backend_or_none=None, as_of=date(2025, 11, 4),
                               actor="officer:li")
            decide_review(ctx, items[flag].id or 0, approve=approve, note=note)
        session.commit()

    with Session(engine) as session:
        for flag, (approve, note) in decisions.items():
            item = session.get(ReviewItem, items[flag].id)
            assert item is not None
            assert (item.status, item.officer, item.note, item.reasons) == (
                "approved" if approve else "rejected", "officer:li", note, flag)
            assert item.decided_at is not None
            assert item.decided_at.replace(tzinfo=UTC) == DECIDED_AT
            last = session.exec(select(GrantEvent).where(
                col(GrantEvent.grant_id) == queued[flag].id).order_by(col(GrantEvent.id))).all()[-1]
            assert (last.actor, last.from_state, last.effective_date) == (
                "officer:li", "manual_review", date(2025, 11, 4))
            assert last.reason == f"flagged_review_{'approved' if approve else 'rejected'}"
    assert grant(engine, queued["refused_automation"].id).state == "granted"
    assert grant(engine, queued["departments_disagree"].id).state == "rejected"

    with Session(engine) as session:  # a decided item stays decided
        ctx = SweepContext(session=session, backend_or_none=None, as_of=date(2025, 11, 5),
                           actor="officer:wang")
        with pytest.raises(Conflict):
            decide_review(ctx, items["no_mobile"].id or 0, approve=False)
