"""The one ``Principal`` type every route authorises against.

Kinds and what ``roles`` holds for each:

- ``staff``: staff roles — ``officer`` (政策专员, authors policies), ``approver`` (审批人),
  ``reviewer`` (复核人员, manual review queue), ``auditor`` (审计员), ``admin``;
- ``citizen``: no roles; ``subject_key`` is the citizen's own person key;
- ``enterprise``: no roles; ``subject_key`` is the enterprise's own key;
- ``department``: a department system calling with an API key; ``roles`` are the key's scopes
  (for example ``verify:person``, ``data:push``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["staff", "citizen", "enterprise", "department"]
STAFF_ROLES = frozenset({"officer", "approver", "reviewer", "auditor", "admin"})


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    subject_key: str | None = None
    department: str | None = None
    display_name: str = ""

    def has_role(self, *wanted: str) -> bool:
        return bool(self.roles.intersection(wanted))

    def owns(self, subject_key: str) -> bool:
        return self.subject_key is not None and self.subject_key == subject_key
