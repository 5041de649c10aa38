"""The access log and a citizen's refusal of automated decisions.

:func:`record_access` is called wherever a person's record is shown (API routes, CLI commands):
one row per (viewer, subject) with the purpose and the field names shown, in the caller's
transaction, so a view that fails leaves no entry and a committed view always has one. The
viewer is a :class:`app.auth.principal.Principal` (``None`` for an anonymous caller such as a
verifier holding a certificate token). Only pseudonymous keys and field *names* are stored;
a viewer id that looks like an ID number or mobile number is stored as its blind index.
Services flush, never commit.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlmodel import Session

from app.auth.principal import Principal
from app.errors import ValidationFailed
from app.personal_data import repository
from app.personal_data.schemas import AccessRecord, RefusalReceipt
from app.privacy import keyring
from eligibility.grants.review import refuse_automation

_LOOKS_PERSONAL = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}")
_SUBJECT_KEY = re.compile(r"[0-9a-f]{32}")


def _now() -> datetime:
    return datetime.now(UTC)


def cli_principal() -> Principal:
    """Whoever runs a CLI command that shows personal data: the operating-system account."""
    return Principal(kind="staff", id=f"cli:{getpass.getuser()}"[:64],
                     roles=frozenset({"officer"}))


def _viewer_id(principal: Principal) -> str:
    if _LOOKS_PERSONAL.search(principal.id):
        return keyring().subject_key(principal.id)
    return principal.id[:64]


def record_access(session: Session, principal: Principal | None, subject_key: str,
                  purpose: str, fields: Iterable[str], *, channel: str = "api") -> None:
    """Log that ``principal`` was shown ``fields`` of ``subject_key``'s record for ``purpose``."""
    record_access_many(session, principal, [subject_key], purpose, fields, channel=channel)


def record_access_many(session: Session, principal: Principal | None,
                       subject_keys: Iterable[str], purpose: str, fields: Iterable[str], *,
                       channel: str = "api") -> int:
    """:func:`record_access` for every subject on one screen (one INSERT); returns the count."""
    shown = ",".join(sorted(set(fields)))[:256]
    at = _now()
    if principal is None:
        viewer = {"viewer_kind": "anonymous", "viewer_id": "anonymous", "viewer_roles": "",
                  "viewer_department": None}
    else:
        viewer = {"viewer_kind": principal.kind, "viewer_id": _viewer_id(principal),
                  "viewer_roles": ",".join(sorted(principal.roles))[:128],
                  "viewer_department": principal.department}
    rows = [{"at": at, "subject_key": key, "purpose": purpose[:64], "fields": shown,
             "channel": channel, **viewer} for key in dict.fromkeys(subject_keys) if key]
    repository.insert_access(session, rows)
    return len(rows)


def access_log(session: Session, subject_key: str, *, since: datetime | None = None,
               limit: int = 500) -> list[AccessRecord]:
    """Who viewed ``subject_key``'s record, newest first."""
    return [_view(row) for row in
            repository.access_of_subject(session, subject_key, since, limit)]


def access_by_viewer(session: Session, viewer_id: str, *, limit: int = 500) -> list[AccessRecord]:
    """What one viewer looked at, newest first (an auditor following a member of staff)."""
    return [_view(row) for row in repository.access_by_viewer(session, viewer_id, limit)]


def _view(row: object) -> AccessRecord:
    values = dict(vars(row))
    values["viewer_roles"] = [r for r in values.get("viewer_roles", "").split(",") if r]
    values["fields"] = [f for f in values.get("fields", "").split(",") if f]
    return AccessRecord.model_validate(values)


def subject_key_of(subject: str) -> str:
    """A resident ID number becomes its pseudonymous key; a 32-hex subject key passes as is."""
    value = subject.strip()
    if _SUBJECT_KEY.fullmatch(value):
        return value
    if _LOOKS_PERSONAL.fullmatch(value.upper()) and len(value) == 18:
        return keyring().subject_key(value)
    raise ValidationFailed("give a resident ID number or a 32-character subject key",
                           "请提供身份证号码")


def refuse_automated_decisions(session: Session, subject_key: str) -> RefusalReceipt:
    """PIPL art. 24: from now on every new decision about this person goes to the manual review
    queue instead of being granted automatically (idempotent: the first refusal's time stays)."""
    refused_at = refuse_automation(session, subject_key)
    return RefusalReceipt(
        subject_key=subject_key, refused_at=refused_at,
        message="已登记您拒绝仅通过自动化方式作出决定的要求,今后涉及您的待遇将由工作人员人工审核。",
    )
