"""Shared helpers of the eligibility tests: a minimal valid policy document to vary."""

from __future__ import annotations

from datetime import date

import polars as pl

from eligibility.evaluator import evaluate_population
from eligibility.frames import from_inline
from eligibility.policy import CompiledPolicy, load_text

MINIMAL = """\
id: test-policy
title: 测试政策
legal_basis:
  - {{document_number: T-1, title: 测试}}
issuing_department: civil_affairs
subject:
  kind: {kind}
effective:
  from: 2020-01-01
parameters:
  local_region:
    type: string
    description: 本区
    values:
      - {{from: 2020-01-01, value: "440604"}}
conditions:
  - name: rule
    description: 测试条件
    when: {when}
benefit:
  kind: one_off_cash
  name: 测试
  amount: {amount}
triggers:
  - kind: daily_sweep
process:
  steps: [auto_grant]
notification:
  template: test.template
"""


def policy_text(when: str, kind: str = "person", amount: str = "100") -> str:
    return MINIMAL.format(kind=kind, when=when, amount=amount)


def compile_condition(when: str, kind: str = "person", amount: str = "100") -> CompiledPolicy:
    return load_text(policy_text(when, kind, amount))


def value_of(
    expr: str,
    subject: dict[str, object],
    as_of: date,
    kind: str = "person",
    related: dict[str, list[dict[str, object]]] | None = None,
) -> object:
    """Evaluate a bool condition for one inline subject (the population path)."""
    policy = compile_condition(expr, kind)
    data = from_inline(kind, subject, related or {}, as_of)
    result: pl.DataFrame = evaluate_population(policy, data, as_of)
    return result.get_column("rule").item()
