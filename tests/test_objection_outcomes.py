"""An objection filed outside a public notice (a citizen's objection to a granted decision, from
the portal) is resolved by an officer: the outcome is recorded on the objection, written to the
grant's history and the audit log, and the citizen is told by SMS; the grant's state is left
alone. Through the real engine and the bundled 高龄津贴 policy, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.errors import Conflict
from app.portal import actions
from eligibility.grants.context import SweepContext
from eligibility.grants.models import Grant, Objection
from eligibility.grants.review import resolve_objection
from eligibility.sweeps.service import run_sweep
from notifications import grant_hooks
from notifications.models import Notification
from tests.support import data
from tests.support.queries import event_reasons, grants_of

DAY = date(2025, 11, 22)


def _object(engine: Engine, grant_id: int, words: str) -> int:
    with Session(engine) as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        view = actions.object_to(session, grant, words, DAY, "citizen:test")
        session.commit()
    assert not view.pauses_notice
    return view.id


def _resolve(engine: Engine, objection_id: int, upheld: bool, note: str) -> None:
    with Session(engine, expire_on_commit=False) as session:
        ctx = SweepContext(session=session, backend_or_none=None, as_of=date(2025, 11, 25),
                           actor="officer:zhang")
        resolve_objection(ctx, objection_id, upheld, note)
        session.commit()


def _results(engine: Engine, subject: str) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(Notification).where(
            col(Notification.subject_key) == subject,
            col(Notification.event_kind) == "objection_result").order_by(col(Notification.id)))
        return [n.body for n in rows]


def test_an_objection_to_a_granted_decision_is_resolved_recorded_audited_and_told(
    engine: Engine,
) -> None:
    grant_hooks.install()
    chen = data.add_person(engine, 70, date(1955, 11, 22))
    run_sweep(DAY, full=True, engine=engine)
    [grant] = grants_of(engine, chen, "longevity-allowance")
    assert grant.state == "granted"

    first = _object(engine, grant.id or 0, "我的津贴档次计算有误,请核查")
    _resolve(engine, first, upheld=False, note="经核查档次正确")
    with Session(engine) as session:
        objection = session.get(Objection, first)
        assert objection is not None
        assert (objection.status, objection.officer, objection.resolved_on, objection.note) == (
            "dismissed", "officer:zhang", date(2025, 11, 25), "经核查档次正确")
    assert grants_of(engine, chen, "longevity-allowance")[0].state == "granted"
    assert event_reasons(engine, grant.id)[-1] == ("granted", "granted", "objection_dismissed")
    with engine.connect() as connection:
        logged = connection.execute(text(
            "SELECT count(*) FROM audit_entry WHERE data LIKE '%objection_dismissed%'")).scalar()
    assert logged == 1
    [told] = _results(engine, chen)
    assert "高龄津贴" in told and "未采纳" in told

    with pytest.raises(Conflict):  # once only
        _resolve(engine, first, upheld=True, note="重复处理")

    second = _object(engine, grant.id or 0, "再次提出异议,请人工复核")
    _resolve(engine, second, upheld=True, note="异议成立,转人工更正")
    assert event_reasons(engine, grant.id)[-1] == ("granted", "granted", "objection_upheld")
    assert [("已采纳" in body) for body in _results(engine, chen)] == [False, True]
