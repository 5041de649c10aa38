"""Explanations: plain-Chinese reasons with what would make a failed condition pass, the inputs
with their source department and as-of date, and everything a decision record needs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.errors import NotFound
from eligibility.evaluator import evaluate_population
from eligibility.explain import Explanation, explain
from eligibility.frames import SubjectData, from_inline
from eligibility.policy import CompiledPolicy, load_file

POLICIES = Path(__file__).resolve().parents[2] / "policies"
AS_OF = date(2025, 3, 1)


def longevity_explanation(
    subject: dict[str, object], related: dict[str, list[dict[str, object]]] | None = None
) -> tuple[CompiledPolicy, SubjectData, Explanation]:
    policy = load_file(POLICIES / "longevity-allowance.yaml")
    data = from_inline("person", subject, related or {}, AS_OF)
    return policy, data, explain(policy, data, "subject", AS_OF)


def test_near_miss_on_age_says_how_long_is_missing() -> None:
    _, _, e = longevity_explanation({"birth_date": date(1955, 6, 1)})
    assert not e.eligible
    assert "还差 3 个月满 70 周岁" in e.failing[0]
    assert "2025-06-01" in e.failing[0]
    aged = next(c for c in e.conditions if c.name == "aged_70")
    assert aged.value is False and aged.description == "年满70周岁"


def test_eligible_explanation_quotes_tier_amount_and_sources() -> None:
    policy, data, e = longevity_explanation(
        {"birth_date": date(1940, 1, 15), "as_of": date(2025, 2, 20)}
    )
    assert e.eligible and e.tier == "80-89" and e.amount_fen == 15000
    assert "符合高龄津贴条件" in e.summary and "150.00元" in e.summary
    birth = next(i for i in e.inputs if i.name == "birth_date")
    assert (birth.value, birth.source_dept, birth.source_dept_zh, birth.as_of) == (
        "1940-01-15",
        "public_security",
        "公安局",
        "2025-02-20",
    )
    record = e.to_dict()
    assert (
        record["policy_id"] == "longevity-allowance" and record["policy_version"] == policy.version
    )
    assert record["parameters"]["amount_80_89"] == 15000 and record["engine_version"]
    row = evaluate_population(policy, data, AS_OF).row(0, named=True)
    assert (
        record["result"]["eligible"] == row["eligible"]
        and record["result"]["amount_fen"] == row["amount_fen"]
    )


def test_death_record_is_named_with_its_source() -> None:
    _, _, e = longevity_explanation(
        {"birth_date": date(1950, 1, 1)},
        {"death_record": [{"date_of_death": date(2025, 2, 3), "source_kind": "hospital"}]},
    )
    reason = next(c for c in e.conditions if c.name == "alive").reasons[0]
    assert "死亡记录" in reason and "2025-02-03" in reason and "卫生健康局" in reason
    assert e.related[0].records[0]["date_of_death"] == "2025-02-03"


def test_snapshot_hash_follows_the_inputs() -> None:
    _, _, one = longevity_explanation({"birth_date": date(1950, 1, 1)})
    _, _, same = longevity_explanation({"birth_date": date(1950, 1, 1)})
    _, _, other = longevity_explanation({"birth_date": date(1950, 1, 2)})
    assert one.input_snapshot_hash == same.input_snapshot_hash != other.input_snapshot_hash


def _months(headcount: int, layoffs: int) -> list[dict[str, object]]:
    periods = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01", "2025-02"]
    return [
        {
            "period": p,
            "insured_headcount": headcount,
            "contribution_fen": 10000,
            "layoffs": layoffs if p == "2024-06" else 0,
            "graduates_hired": 0,
        }
        for p in periods
    ]


def test_layoff_rate_near_miss() -> None:
    policy = load_file(POLICIES / "job-retention-refund.yaml")
    data = from_inline(
        "enterprise",
        {"kind": "enterprise", "size_class": "medium"},
        {"ui_contribution": _months(1000, 61)},
        AS_OF,
    )
    e = explain(policy, data, "subject", AS_OF)
    reasons = next(c for c in e.conditions if c.name == "layoff_rate_ok").reasons
    assert "裁员率 6.1% 高于 5.5%" in reasons
    assert any("上年末参保人数 1000 高于 30" in r for r in reasons)
    rate = next(d for d in e.derived if d.name == "layoff_rate")
    assert rate.display == "6.1%"


def test_missing_count_says_how_many_are_missing() -> None:
    policy = load_file(POLICIES / "job-retention-refund.yaml")
    data = from_inline(
        "enterprise", {"kind": "enterprise"}, {"ui_contribution": _months(100, 0)[4:]}, AS_OF
    )
    e = explain(policy, data, "subject", AS_OF)
    reasons = next(c for c in e.conditions if c.name == "insured_12_months").reasons
    assert reasons == ["近12个月缴费月数 10 低于 12(还差 2)"]


def test_unknown_subject() -> None:
    policy, data, _ = longevity_explanation({"birth_date": date(1950, 1, 1)})
    with pytest.raises(NotFound):
        explain(policy, data, "nobody", AS_OF)
