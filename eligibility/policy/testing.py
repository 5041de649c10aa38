"""Running a policy's own test cases: each builds inline frames for one subject, evaluates the
policy on them as of the case's date and compares eligibility, tier, amount, named conditions
and payee with what the case expects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eligibility.evaluator import evaluate_population
from eligibility.frames import from_inline
from eligibility.policy.compile import CompiledPolicy
from eligibility.policy.model import TestCase


@dataclass
class CaseResult:
    policy_id: str
    name: str
    passed: bool
    line: int = 0
    failures: list[str] = field(default_factory=list)
    row: dict[str, Any] = field(default_factory=dict)


def run_case(policy: CompiledPolicy, index: int, case: TestCase) -> CaseResult:
    line = policy.source.position(("tests", index))[0] if policy.source else 0
    result = CaseResult(policy.id, case.name, False, line)
    try:
        data = from_inline(policy.view.kind, case.subject, case.related, case.as_of)
    except ValueError as error:
        result.failures.append(f"bad test data: {error}")
        return result
    rows = evaluate_population(policy, data, case.as_of).to_dicts()
    row = rows[0]
    result.row = row
    expect = case.expect
    wanted = expect.model_fields_set
    checks: list[tuple[str, Any, Any]] = [("eligible", expect.eligible, row["eligible"])]
    if "tier" in wanted:
        checks.append(("tier", expect.tier, row["tier"]))
    if "amount_fen" in wanted:
        checks.append(("amount_fen", expect.amount_fen, row["amount_fen"]))
    for name, value in expect.conditions.items():
        if name not in row:
            result.failures.append(f"no condition named {name!r}")
            continue
        checks.append((f"condition {name}", value, row[name]))
    if expect.payee is not None:
        payee_key = data.base.get_column(f"{expect.payee}_key").item()
        checks.append(
            (
                "payee",
                expect.payee,
                expect.payee
                if row.get("payee_key") == payee_key and payee_key is not None
                else row.get("payee_key"),
            )
        )
    for what, want, got in checks:
        if want != got:
            result.failures.append(f"{what}: expected {want!r}, got {got!r}")
    result.passed = not result.failures
    return result


def run_tests(policy: CompiledPolicy) -> list[CaseResult]:
    return [run_case(policy, i, case) for i, case in enumerate(policy.document.tests)]
