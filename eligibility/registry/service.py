"""The policy lifecycle, persisted: draft → validated → submitted → approved (by someone other
than the author: four eyes) → effective from a date → retired.

- A version is identified by the SHA-256 of its canonical document (``content_hash``); uploading
  text whose canonical form is already held returns the held version (re-submitting identical
  text is idempotent, whatever its formatting).
- Nothing here rewrites ``text``: an approved version is immutable, and :func:`compiled`
  refuses stored text that no longer hashes to its ``content_hash``.
- Approvals and retirements are appended to the tamper-evident audit log in the caller's
  transaction (exactly once per version).
- The version in force for a policy on a date is the approved version with the latest
  ``effective_from`` on or before the date; a retired version is never in force.

Services flush, never commit (the edge owns the transaction).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.audit import service as audit
from app.audit.schemas import EntryKind
from app.errors import Conflict, Forbidden, MianshenError, NotFound, ValidationFailed
from eligibility.policy import CompiledPolicy, PolicyError, load_text
from eligibility.policy.source import Issue
from eligibility.registry import repository as repo
from eligibility.registry.models import PolicyVersion, VersionState
from eligibility.registry.schemas import PolicySummary

HASH_PREFIX = re.compile(r"[0-9a-f]{8,64}")
BEYOND_VALIDATION = (VersionState.SUBMITTED, VersionState.APPROVED, VersionState.RETIRED)


class RegistryIntegrityError(MianshenError):
    """Stored policy text no longer matches its content hash (it was altered in the database)."""

    status_code = 500


def _now() -> datetime:
    return datetime.now(UTC)


def _parse(text: str) -> tuple[CompiledPolicy | None, list[Issue]]:
    try:
        return _compile(text), []
    except PolicyError as error:
        return None, error.issues


@lru_cache(maxsize=256)
def _compile(text: str) -> CompiledPolicy:
    return load_text(text)


def create_draft(session: Session, text: str, author: str) -> tuple[PolicyVersion, list[Issue]]:
    """Store uploaded text as a draft; returns the version and the validation issues found.
    Text whose canonical form is already held returns the held version unchanged."""
    if not author.strip():
        raise ValidationFailed("an author is required", "请填写起草人")
    policy, issues = _parse(text)
    if policy is not None:
        held = repo.by_hash(session, policy.version)
        if held is not None:
            return held, []
    row = PolicyVersion(
        policy_id=policy.id if policy else "", content_hash=policy.version if policy else None,
        title=policy.document.title if policy else "", text=text,
        state=VersionState.DRAFT.value, author=author, created_at=_now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same text uploaded concurrently: theirs is ours
        assert policy is not None
        held = repo.by_hash(session, policy.version)
        if held is None:
            raise
        return held, []
    return row, issues


def resolve(session: Session, reference: str,
            states: Sequence[VersionState] = tuple(VersionState)) -> PolicyVersion:
    """A version by row id, content hash (or a prefix of at least 8 characters) or policy id;
    a policy id must name exactly one version in ``states``."""
    reference = reference.strip()
    if reference.isdigit():
        row = repo.get(session, int(reference))
        if row is not None:
            return row
    if HASH_PREFIX.fullmatch(reference):
        matches = repo.by_hash_prefix(session, reference)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Conflict(f"hash prefix {reference!r} is ambiguous; give more characters")
    candidates = repo.in_state(session, states, policy_id=reference)
    if len(candidates) == 1:
        return candidates[0]
    wanted = "/".join(s.value for s in states)
    if candidates:
        raise Conflict(f"policy {reference!r} has {len(candidates)} {wanted} versions; "
                       "name one by its hash")
    raise NotFound(f"no {wanted} policy version {reference!r} (give an id, a hash or a policy id)",
                   "未找到该政策版本")


def validate(session: Session, version: PolicyVersion) -> list[Issue]:
    """Check a draft; a valid one becomes ``validated``. Later states are left as they are."""
    policy, issues = _parse(version.text)
    if version.state == VersionState.DRAFT.value and policy is not None:
        version.state = VersionState.VALIDATED.value
        version.validated_at = _now()
        session.add(version)
        session.flush()
    return issues


def submit(session: Session, version: PolicyVersion, by: str) -> PolicyVersion:
    """Submit a validated version for approval (a draft is validated first). Submitting a
    version already submitted, approved or retired changes nothing."""
    if version.state in BEYOND_VALIDATION:
        return version
    issues = validate(session, version)
    if issues:
        first = "; ".join(str(issue) for issue in issues[:3])
        raise ValidationFailed(f"policy does not validate: {first}", "政策文件校验未通过")
    version.state = VersionState.SUBMITTED.value
    version.submitted_by, version.submitted_at = by, _now()
    session.add(version)
    session.flush()
    return version


def approve(session: Session, version: PolicyVersion, approver: str,
            effective_from: date | None = None) -> PolicyVersion:
    """Approve a submitted version (four eyes: never by its author or submitter); it is in
    force from ``effective_from`` (default: today, or the document's own start if later)."""
    session.refresh(version, with_for_update=True)  # two approvers at once: one waits
    if version.state == VersionState.APPROVED.value and version.approved_by == approver and (
        effective_from is None or effective_from == version.effective_from
    ):
        return version
    if version.state != VersionState.SUBMITTED.value:
        raise Conflict(f"version {version.id} is {version.state}; only a submitted version "
                       "can be approved", "只有已提交的政策版本可以审批")
    if approver.strip() in {version.author, version.submitted_by}:
        raise Forbidden("four eyes: the approver cannot be the author or the submitter",
                        "审批人不能是该政策版本的起草人或提交人")
    policy = compiled(session, version)
    if effective_from is None:
        effective_from = max(date.today(), policy.document.effective.from_)
    version.state = VersionState.APPROVED.value
    version.approved_by, version.approved_at = approver, _now()
    version.effective_from = effective_from
    session.add(version)
    session.flush()
    audit.append(session, EntryKind.POLICY_APPROVED, {
        "record_id": version.content_hash, "policy_id": version.policy_id,
        "policy_version_hash": version.content_hash, "author_id": version.author,
        "approver_id": approver, "effective_from": effective_from,
    })
    return version


def retire(session: Session, version: PolicyVersion, by: str) -> PolicyVersion:
    """Retire an approved version: from now on it is never in force."""
    session.refresh(version, with_for_update=True)
    if version.state == VersionState.RETIRED.value:
        return version
    if version.state != VersionState.APPROVED.value:
        raise Conflict(f"version {version.id} is {version.state}; only an approved version "
                       "can be retired", "只有已生效的政策版本可以停用")
    version.state = VersionState.RETIRED.value
    version.retired_by, version.retired_at = by, _now()
    session.add(version)
    session.flush()
    audit.append(session, EntryKind.POLICY_RETIRED, {
        "record_id": version.content_hash, "policy_id": version.policy_id,
        "policy_version_hash": version.content_hash, "retired_by": by,
        "retired_on": version.retired_at.date(),
    })
    return version


def stored_policy(session: Session, version: PolicyVersion | str) -> CompiledPolicy:
    """The compiled policy of a stored version (or content hash) as its text is now, unchecked:
    :func:`compiled` is the checked form; replay uses this one to show what an alteration does."""
    row = version if isinstance(version, PolicyVersion) else repo.by_hash(session, version)
    if row is None:
        raise NotFound(f"no policy version with hash {version!r} in the registry",
                       "政策版本库中没有该版本")
    policy, issues = _parse(row.text)
    if policy is None:
        raise ValidationFailed(f"policy version {row.id} does not validate: {issues[0]}")
    return policy


def compiled(session: Session, version: PolicyVersion | str) -> CompiledPolicy:
    """The compiled policy of a stored version (or content hash), checked against its hash."""
    policy = stored_policy(session, version)
    expected = version.content_hash if isinstance(version, PolicyVersion) else version
    if expected is not None and policy.version != expected:
        raise RegistryIntegrityError(
            f"stored policy text hashes to {policy.version[:16]}…, not its recorded "
            f"{expected[:16]}…: it was altered")
    return policy


def in_force(session: Session, as_of: date) -> dict[str, CompiledPolicy]:
    """Compiled version in force on ``as_of`` per policy id."""
    return {pid: compiled(session, row) for pid, row in repo.in_force(session, as_of).items()}


def version_in_force(session: Session, policy_id: str, as_of: date) -> CompiledPolicy | None:
    row = repo.in_force(session, as_of).get(policy_id)
    return compiled(session, row) if row is not None else None


def summaries(session: Session, as_of: date) -> list[PolicySummary]:
    rows = repo.all_versions(session)
    current = repo.in_force(session, as_of)
    by_policy: dict[str, list[PolicyVersion]] = {}
    for row in rows:
        by_policy.setdefault(row.policy_id, []).append(row)
    out = []
    for policy_id, versions in sorted(by_policy.items()):
        latest, force = versions[-1], current.get(policy_id)
        out.append(PolicySummary(
            policy_id=policy_id or "(invalid drafts)", title=latest.title,
            versions=len(versions), latest_state=latest.state, latest_hash=latest.content_hash,
            in_force_hash=force.content_hash if force else None,
            in_force_from=force.effective_from if force else None,
        ))
    return out
