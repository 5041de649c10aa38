"""Views of registry rows for the CLI and the API (JSON-ready pydantic models)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from eligibility.policy.source import Issue
from eligibility.registry.models import PolicyVersion


class VersionView(BaseModel):
    id: int
    policy_id: str
    content_hash: str | None
    title: str
    state: str
    author: str
    created_at: datetime
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    effective_from: date | None = None
    retired_by: str | None = None
    retired_at: datetime | None = None

    @classmethod
    def of(cls, row: PolicyVersion) -> VersionView:
        assert row.id is not None
        return cls.model_validate(row.model_dump(exclude={"text", "validated_at"}))


class VersionDetail(VersionView):
    text: str

    @classmethod
    def of(cls, row: PolicyVersion) -> VersionDetail:
        return cls.model_validate(row.model_dump(exclude={"validated_at"}))


class IssueView(BaseModel):
    line: int
    column: int
    path: str
    message: str

    @classmethod
    def of(cls, issue: Issue) -> IssueView:
        return cls(line=issue.line, column=issue.column, path=issue.path, message=issue.message)


class ValidationReport(BaseModel):
    valid: bool
    issues: list[IssueView]
    version: VersionView


class PolicySummary(BaseModel):
    policy_id: str
    title: str
    versions: int
    latest_state: str
    latest_hash: str | None
    in_force_hash: str | None
    in_force_from: date | None


class CaseView(BaseModel):
    name: str
    passed: bool
    line: int
    failures: list[str]


class TestReport(BaseModel):
    policy_id: str
    passed: int
    failed: int
    cases: list[CaseView]
