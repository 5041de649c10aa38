"""``/api/v1/policies``: the policy lifecycle over HTTP.

Any staff member reads; officers (政策专员) upload drafts (the YAML document as the request
body), validate them (issues with line and column), run their test cases, preview their impact
against the version in force and submit them; approvers (审批人) approve (never their own
version: four eyes, enforced by the service) and retire. A version is named by its row id or its
content hash (a prefix of 8+ characters will do).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.errors import ValidationFailed
from eligibility import repository as population
from eligibility.policy.source import MAX_DOCUMENT_BYTES, Issue
from eligibility.policy.testing import run_tests
from eligibility.registry import repository, service
from eligibility.registry.models import PolicyVersion
from eligibility.registry.schemas import (
    CaseView,
    IssueView,
    PolicySummary,
    TestReport,
    ValidationReport,
    VersionDetail,
    VersionView,
)
from eligibility.schemas import PreviewReport
from eligibility.service import preview as preview_policy

router = APIRouter(prefix="/policies", tags=["policies"])
staff = require_staff()
officer = require_staff("officer")
approver = require_staff("approver")


class ApproveRequest(BaseModel):
    effective_from: date | None = None


async def yaml_body(request: Request) -> str:
    """The request body as UTF-8 text (the policy YAML), bounded in size."""
    body = await request.body()
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValidationFailed(f"policy text larger than {MAX_DOCUMENT_BYTES} bytes",
                               f"政策文件不能超过 {MAX_DOCUMENT_BYTES} 字节")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("policy text is not UTF-8", "政策文件须为 UTF-8 编码") from None


def _report(version: PolicyVersion, issues: list[Issue]) -> ValidationReport:
    return ValidationReport(valid=not issues, issues=[IssueView.of(i) for i in issues],
                            version=VersionView.of(version))


@router.get("", response_model=list[PolicySummary])
def list_policies(
    as_of: date | None = Query(None, description="Version in force on this date (default today)"),
    session: Session = UNIT_OF_WORK, _who: Principal = Depends(staff),
) -> list[PolicySummary]:
    return service.summaries(session, as_of or date.today())


@router.get("/{policy_id}/versions", response_model=list[VersionView])
def policy_versions(
    policy_id: str, session: Session = UNIT_OF_WORK, _who: Principal = Depends(staff),
) -> list[VersionView]:
    return [VersionView.of(v) for v in repository.versions_of(session, policy_id)]


@router.get("/versions/{reference}", response_model=VersionDetail)
def get_version(
    reference: str, session: Session = UNIT_OF_WORK, _who: Principal = Depends(staff),
) -> VersionDetail:
    return VersionDetail.of(service.resolve(session, reference))


@router.post("/versions", response_model=ValidationReport, status_code=201)
def create_draft(
    text: str = Depends(yaml_body), session: Session = UNIT_OF_WORK,
    who: Principal = Depends(officer),
) -> ValidationReport:
    """Upload a draft (the YAML document is the body); identical content returns the held one."""
    version, issues = service.create_draft(session, text, who.id)
    return _report(version, issues)


@router.post("/versions/{reference}/validate", response_model=ValidationReport)
def validate(
    reference: str, session: Session = UNIT_OF_WORK, _who: Principal = Depends(officer),
) -> ValidationReport:
    version = service.resolve(session, reference)
    return _report(version, service.validate(session, version))


@router.post("/versions/{reference}/test", response_model=TestReport)
def run_test_cases(
    reference: str, session: Session = UNIT_OF_WORK, _who: Principal = Depends(officer),
) -> TestReport:
    policy = service.compiled(session, service.resolve(session, reference))
    cases = [CaseView(name=c.name, passed=c.passed, line=c.line, failures=c.failures)
             for c in run_tests(policy)]
    passed = sum(c.passed for c in cases)
    return TestReport(policy_id=policy.id, passed=passed, failed=len(cases) - passed, cases=cases)


@router.post("/versions/{reference}/preview", response_model=PreviewReport)
def preview(
    reference: str, as_of: date = Query(..., description="Evaluation date"),
    session: Session = UNIT_OF_WORK, _who: Principal = Depends(officer),
) -> PreviewReport:
    """Impact on the population held, and the change against the version in force."""
    policy = service.compiled(session, service.resolve(session, reference))
    current = service.version_in_force(session, policy.id, as_of)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    data = population.load_subject_data(engine, policy.view.kind)
    return preview_policy(policy, data, as_of, current)


@router.post("/versions/{reference}/submit", response_model=VersionView)
def submit(
    reference: str, session: Session = UNIT_OF_WORK, who: Principal = Depends(officer),
) -> VersionView:
    return VersionView.of(service.submit(session, service.resolve(session, reference), who.id))


@router.post("/versions/{reference}/approve", response_model=VersionView)
def approve(
    reference: str, body: ApproveRequest | None = None,
    session: Session = UNIT_OF_WORK, who: Principal = Depends(approver),
) -> VersionView:
    version = service.resolve(session, reference)
    since = body.effective_from if body else None
    return VersionView.of(service.approve(session, version, who.id, since))


@router.post("/versions/{reference}/retire", response_model=VersionView)
def retire(
    reference: str, session: Session = UNIT_OF_WORK, who: Principal = Depends(approver),
) -> VersionView:
    return VersionView.of(service.retire(session, service.resolve(session, reference), who.id))
