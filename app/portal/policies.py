"""The bundled policies by id, compiled once per process (a page must not re-parse YAML)."""

from __future__ import annotations

from functools import cache

from eligibility.policy import CompiledPolicy, load_file
from eligibility.policy.loader import policy_files
from eligibility.service import POLICY_DIR


@cache
def bundled() -> dict[str, CompiledPolicy]:
    policies = {}
    for path in policy_files(POLICY_DIR):
        compiled = load_file(path)
        policies[compiled.document.id] = compiled
    return policies


def title_of(policy_id: str) -> str:
    policy = bundled().get(policy_id)
    return policy.document.title if policy else policy_id


def of_kind(kind: str) -> list[CompiledPolicy]:
    return [p for p in bundled().values() if p.view.kind == kind]


def confirmation_of(policy_id: str) -> str | None:
    """What the policy asks its beneficiary to confirm: ``intent``, ``bank_account`` or nothing."""
    policy = bundled().get(policy_id)
    return policy.document.process.confirmation if policy else None
