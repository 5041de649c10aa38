"""Reports on one stored policy version that both the API and the officer console show: its
test cases run, its impact previewed against the version in force, and a check of policy text
that is not stored (the editor validates before it saves a draft)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session

from eligibility import repository as population
from eligibility.policy import PolicyError, load_text
from eligibility.policy.source import Issue
from eligibility.policy.testing import run_tests
from eligibility.registry import service
from eligibility.registry.models import PolicyVersion
from eligibility.registry.schemas import CaseView, TestReport
from eligibility.schemas import PreviewReport
from eligibility.service import preview as preview_policy


def issues_of(text: str) -> list[Issue]:
    """Validation issues (line and column) of policy text; empty when it compiles."""
    try:
        load_text(text)
    except PolicyError as error:
        return list(error.issues)
    return []


def test_report(session: Session, version: PolicyVersion) -> TestReport:
    policy = service.compiled(session, version)
    cases = [CaseView(name=c.name, passed=c.passed, line=c.line, failures=c.failures)
             for c in run_tests(policy)]
    passed = sum(c.passed for c in cases)
    return TestReport(policy_id=policy.id, passed=passed, failed=len(cases) - passed, cases=cases)


def preview_report(session: Session, version: PolicyVersion, as_of: date) -> PreviewReport:
    """Impact on the population held, and the change against the version in force."""
    policy = service.compiled(session, version)
    current = service.version_in_force(session, policy.id, as_of)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    data = population.load_subject_data(engine, policy.view.kind)
    return preview_policy(policy, data, as_of, current)
