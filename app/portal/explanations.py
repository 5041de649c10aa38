"""The plain-Chinese explanation of a subject's decision under a policy, from the same compiled
conditions the sweep evaluated (``eligibility.explain``), with the recorded decision's
provenance (policy version, input hash) alongside. Only the subject's own rows are loaded."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.portal.policies import bundled
from app.portal.schemas import ConditionView, ExplanationView, InputView
from eligibility import repository as data_repository
from eligibility.explain import Explanation, explain
from eligibility.grants.models import Decision
from eligibility.policy import CompiledPolicy
from eligibility.sweeps.models import SweepRun


def data_date(session: Session) -> date:
    """The as-of date of the latest finished sweep: the date the pages evaluate on."""
    latest = session.exec(
        select(func.max(SweepRun.as_of)).where(col(SweepRun.status) == "done")
    ).first()
    return latest or date.today()


def policy_or_404(policy_id: str) -> CompiledPolicy:
    policy = bundled().get(policy_id)
    if policy is None:
        raise NotFound(f"policy {policy_id} not bundled", "未找到该政策")
    return policy


def evaluate(
    session: Session, policy: CompiledPolicy, subject_key: str, as_of: date
) -> Explanation:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    data = data_repository.load_subject_data(engine, policy.view.kind, [subject_key])
    if data.base.height == 0:
        raise NotFound("subject not in the shared data", "未找到您的相关数据")
    return explain(policy, data, subject_key, as_of)


def view_of(
    policy: CompiledPolicy, e: Explanation, as_of: date, decision: Decision | None = None
) -> ExplanationView:
    inputs = [
        InputView(label=i.label, value=i.display, source=i.source_dept_zh or "", as_of=i.as_of)
        for i in e.inputs
    ] + [InputView(label=d.label, value=d.display, source="系统计算", as_of=None)
         for d in e.derived]
    return ExplanationView(
        policy_id=policy.document.id, title=e.title, eligible=e.eligible, summary=e.summary,
        amount_fen=e.amount_fen, tier=e.tier,
        conditions=[ConditionView(description=c.description, passed=c.passed, reasons=c.reasons)
                    for c in e.conditions],
        inputs=inputs, failing=list(dict.fromkeys(e.failing)), as_of=as_of,
        decision_id=decision.id if decision else None,
        policy_version=e.run.policy_version,
        decided_version=decision.policy_version if decision else None,
        inputs_hash=decision.inputs_hash if decision else None,
        decided_at=decision.created_at if decision else None,
    )


def explain_decision(
    session: Session, policy_id: str, subject_key: str, decision: Decision | None
) -> ExplanationView:
    """Explain the recorded decision on its own as-of date (or today's data date if none)."""
    policy = policy_or_404(policy_id)
    as_of = decision.as_of if decision else data_date(session)
    return view_of(policy, evaluate(session, policy, subject_key, as_of), as_of, decision)
