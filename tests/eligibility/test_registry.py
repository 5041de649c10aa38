"""The policy registry on real SQLite and PostgreSQL: the lifecycle with four eyes, idempotent
submission of identical content, the version in force by date, retirement, audit entries,
refusal of altered stored text, and publishing the bundled catalog once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.audit import repository as audit_repo
from app.audit.schemas import EntryKind
from app.errors import Conflict, Forbidden, ValidationFailed
from eligibility.policy import load_text
from eligibility.registry import service
from eligibility.registry.catalog import publish_folder
from eligibility.registry.models import VersionState
from eligibility.registry.service import RegistryIntegrityError
from tests.eligibility.helpers import policy_text
from tests.eligibility.registry_helpers import (
    LONGEVITY_TEXT,
    POLICIES,
    approved,
    longevity_paying,
    state_of,
)


def test_lifecycle_with_four_eyes_and_audit_entries(engine: Engine) -> None:
    with Session(engine) as session:
        version, issues = service.create_draft(session, LONGEVITY_TEXT, "officer.li")
        assert issues == [] and version.state == VersionState.DRAFT
        assert version.content_hash == load_text(LONGEVITY_TEXT).version
        assert service.validate(session, version) == [] and version.state == "validated"
        service.submit(session, version, "officer.li")
        assert version.state == "submitted"
        with pytest.raises(Forbidden, match="four eyes"):
            service.approve(session, version, "officer.li", date(2025, 1, 1))
        assert version.state == "submitted"
        service.approve(session, version, "approver.zhao", date(2025, 1, 1))
        assert (version.state, version.approved_by) == ("approved", "approver.zhao")
        with pytest.raises(Conflict):
            service.approve(session, version, "approver.qian", date(2025, 2, 1))
        service.retire(session, version, "approver.zhao")
        session.commit()
        content_hash = version.content_hash
        assert content_hash is not None
        approval = audit_repo.entry_by_ref(session, EntryKind.POLICY_APPROVED, content_hash)
        retirement = audit_repo.entry_by_ref(session, EntryKind.POLICY_RETIRED, content_hash)
        assert approval is not None and '"approver_id":"approver.zhao"' in approval.data
        assert '"author_id":"officer.li"' in approval.data
        assert retirement is not None and '"retired_by":"approver.zhao"' in retirement.data


def test_the_submitter_cannot_approve_either(engine: Engine) -> None:
    with Session(engine) as session:
        version, _ = service.create_draft(session, LONGEVITY_TEXT, "officer.li")
        service.submit(session, version, "officer.wang")
        with pytest.raises(Forbidden):
            service.approve(session, version, "officer.wang")
        with pytest.raises(Conflict, match="only an approved"):
            service.retire(session, version, "approver.zhao")


def test_identical_content_is_idempotent_whatever_its_formatting(engine: Engine) -> None:
    content_hash = approved(engine, LONGEVITY_TEXT, date(2025, 1, 1))
    reformatted = "# a comment changes nothing\n" + LONGEVITY_TEXT.replace("id: ", "id:   ", 1)
    with Session(engine) as session:
        again, issues = service.create_draft(session, reformatted, "officer.wang")
        assert issues == [] and again.content_hash == content_hash
        assert service.submit(session, again, "officer.wang").state == "approved"
        assert again.author == "officer.li"  # the held version is untouched
        session.commit()
        rows = session.exec(text("SELECT count(*) FROM policy_version")).one()  # type: ignore[call-overload]
        assert rows[0] == 1


def test_the_version_in_force_follows_effective_dates_and_retirement(engine: Engine) -> None:
    first = approved(engine, LONGEVITY_TEXT, date(2025, 1, 1))
    second = approved(engine, longevity_paying(9_000), date(2025, 6, 1))
    assert first != second
    with Session(engine) as session:
        assert service.version_in_force(session, "longevity-allowance", date(2024, 12, 31)) is None
        in_spring = service.version_in_force(session, "longevity-allowance", date(2025, 5, 31))
        in_summer = service.version_in_force(session, "longevity-allowance", date(2025, 6, 1))
        assert in_spring is not None and in_spring.version == first
        assert in_summer is not None and in_summer.version == second
        service.retire(session, service.resolve(session, second[:12]), "approver.zhao")
        session.commit()
        after = service.version_in_force(session, "longevity-allowance", date(2025, 6, 1))
        assert after is not None and after.version == first


def test_an_invalid_draft_is_kept_with_its_issues_and_cannot_be_submitted(engine: Engine) -> None:
    with Session(engine) as session:
        draft, issues = service.create_draft(session, policy_text("age_on(as_of) >= seventy"),
                                             "officer.li")
        assert draft.content_hash is None and draft.state == "draft"
        assert issues[0].line == 19 and "seventy" in issues[0].message
        with pytest.raises(ValidationFailed):
            service.submit(session, draft, "officer.li")
        assert draft.state == "draft"


def test_altered_stored_text_is_refused(engine: Engine) -> None:
    content_hash = approved(engine, LONGEVITY_TEXT, date(2025, 1, 1))
    with engine.begin() as connection:
        connection.execute(text("UPDATE policy_version SET text = :t"),
                           {"t": longevity_paying(1)})
    with Session(engine) as session, pytest.raises(RegistryIntegrityError, match="altered"):
        service.compiled(session, content_hash)


def test_publishing_the_bundled_catalog_twice_creates_nothing_new(engine: Engine) -> None:
    with Session(engine) as session:
        first = publish_folder(session, POLICIES)
        session.commit()
    with Session(engine) as session:
        second = publish_folder(session, POLICIES)
        session.commit()
        entries = audit_repo.entries_by_ref(
            session, [(EntryKind.POLICY_APPROVED.value, p.content_hash) for p in first])
    assert len(first) == len(list(POLICIES.glob("*.yaml"))) and all(p.created for p in first)
    assert not any(p.created for p in second) and len(entries) == len(first)
    assert all(state_of(engine, p.content_hash).state == "approved" for p in first)
    longevity = state_of(engine, next(p.content_hash for p in first
                                      if p.policy_id == "longevity-allowance"))
    assert longevity.author != longevity.approved_by
    assert longevity.effective_from == date(2020, 1, 1)
