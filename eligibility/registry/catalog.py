"""Publishing the bundled catalog (``policies/``) into the registry.

Each bundled file is recorded as authored by :data:`CATALOG_AUTHOR` and approved by
:data:`CATALOG_APPROVER` (two distinct system identities, so the four-eyes rule holds), in force
from the document's own ``effective.from``. A file whose canonical form is already held is left
as it is, so publishing again creates nothing; a changed file becomes a new approved version.
A held version someone else uploaded is never approved here: it waits for a human approver.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from eligibility.policy import PolicyError
from eligibility.policy.loader import policy_files
from eligibility.registry import service
from eligibility.registry.models import VersionState

CATALOG_AUTHOR = "system:bundled-catalog"
CATALOG_APPROVER = "system:catalog-publisher"


@dataclass(frozen=True)
class Published:
    file: str
    policy_id: str
    content_hash: str
    state: str
    created: bool


def publish_folder(session: Session, folder: Path) -> list[Published]:
    """Record every policy file under ``folder`` as approved (idempotent)."""
    out = []
    for path in policy_files(folder):
        text = path.read_text(encoding="utf-8")
        version, issues = service.create_draft(session, text, CATALOG_AUTHOR)
        if issues:
            raise PolicyError(issues, str(path))
        created = version.state == VersionState.DRAFT.value and version.author == CATALOG_AUTHOR
        if created:
            service.submit(session, version, CATALOG_AUTHOR)
            policy = service.compiled(session, version)
            service.approve(session, version, CATALOG_APPROVER, policy.document.effective.from_)
        assert version.content_hash is not None
        out.append(Published(str(path), version.policy_id, version.content_hash, version.state,
                             created))
    return out
