"""Policy files: schema errors, expression errors and decision-table findings with the line and
column in the YAML file; dated parameters; the version hash."""

from __future__ import annotations

from datetime import date

import pytest

from eligibility.evaluator import evaluate_population
from eligibility.frames import from_inline
from eligibility.policy import PolicyError, load_text
from tests.eligibility.helpers import MINIMAL, policy_text


def issues_of(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(PolicyError) as info:
        load_text(text)
    return [(i.line, i.column, i.message) for i in info.value.issues]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_expression_error_points_into_the_file() -> None:
    text = policy_text("age_on(as_of) >= 70 and region_code == param.local_regoin")
    ((line, column, message),) = issues_of(text)
    assert "unknown parameter 'local_regoin'" in message
    assert line == line_of(text, "when:")
    assert text.splitlines()[line - 1][column - 1 :].startswith("param.local_regoin")


def test_error_inside_a_literal_block_points_at_its_line() -> None:
    text = policy_text("|\n      age_on(as_of) >= 70\n      and exists(death_recrd)\n")
    ((line, column, message),) = issues_of(text)
    assert "unknown related dataset 'death_recrd'" in message
    assert line == line_of(text, "death_recrd")
    assert text.splitlines()[line - 1][column - 1 :].startswith("death_recrd")


def test_schema_errors_have_positions() -> None:
    text = (
        policy_text("true")
        .replace("kind: one_off_cash", "kind: one_off_cashh")
        .replace("template: test.template", "template: test.template\n  colour: red")
    )
    found = issues_of(text)
    messages = " ".join(m for _, _, m in found)
    assert "unknown key 'colour'" in messages
    assert any(line == line_of(text, "one_off_cashh") for line, _, _ in found)


def test_duplicate_keys_and_yaml_syntax() -> None:
    assert (
        "duplicate key 'title'"
        in issues_of(MINIMAL.replace("title: 测试政策", "title: a\ntitle: b"))[0][2]
    )
    ((_, _, message),) = issues_of("id: [unclosed\n")
    assert message.startswith("YAML:")


def test_type_errors_in_benefit_and_conditions() -> None:
    assert "expected bool" in issues_of(policy_text("birth_date"))[0][2]
    assert "expected money" in issues_of(policy_text("true", amount="as_of"))[0][2]


TABLE = """
decision_tables:
  tier:
    hit_policy: {hit}
    inputs:
      - {{name: age, expr: age_on(as_of)}}
    outputs:
      - {{name: tier, type: string}}
      - {{name: amount, type: money}}
    rules:
{rows}
"""


def with_table(hit: str, rows: list[str]) -> str:
    body = "\n".join(
        f'      - when: ["{cell}"]\n        then: [t{i}, {i}00]' for i, cell in enumerate(rows)
    )
    return policy_text("true", amount="tier.amount") + TABLE.format(hit=hit, rows=body)


def test_unique_table_overlap_is_reported_at_the_row() -> None:
    text = with_table("unique", ["< 80", "[79..89]", ">= 90"])
    found = issues_of(text)
    assert any("rules 1 and 2 both match" in m and "79" in m for _, _, m in found)
    row_line = line_of(text, "[79..89]")
    assert any(line == row_line for line, _, m in found if "both match" in m)


def test_uncovered_inputs_are_reported() -> None:
    found = issues_of(with_table("unique", ["< 80", "[81..89]", ">= 90"]))
    assert any("no rule matches" in m and "80" in m for _, _, m in found)


def test_first_hit_unreachable_row() -> None:
    found = issues_of(with_table("first", ["-", ">= 90"]))
    assert any("rule 2 is never reached" in m for _, _, m in found)


def test_first_hit_table_evaluates_in_order() -> None:
    policy = load_text(with_table("first", ["< 80", "< 90", "-"]))
    data = from_inline("person", {"birth_date": date(1940, 6, 1)}, {}, date(2025, 3, 1))
    row = evaluate_population(policy, data, date(2025, 3, 1)).row(0, named=True)
    assert (row["amount_fen"]) == 100  # 84 years old: the second rule's amount


def test_dated_parameter_value_in_force() -> None:
    text = policy_text("true", amount="param.amount").replace(
        "parameters:\n",
        "parameters:\n  amount:\n    type: money\n    description: 金额\n"
        "    values:\n      - {from: 2020-01-01, value: 100}\n"
        "      - {from: 2025-07-01, value: 150}\n",
    )
    policy = load_text(text)
    data = from_inline("person", {}, {}, date(2025, 1, 1))
    amounts = [
        evaluate_population(policy, data, day).get_column("amount_fen").item()
        for day in (date(2025, 6, 30), date(2025, 7, 1))
    ]
    assert amounts == [100, 150]


def test_parameter_values_must_ascend_and_match_their_type() -> None:
    text = policy_text("true").replace(
        "parameters:\n",
        "parameters:\n  rate:\n    type: decimal\n    description: 比例\n"
        "    values:\n      - {from: 2020-01-01, value: lots}\n",
    )
    assert any("expected a number or a percentage" in m for _, _, m in issues_of(text))


def test_version_ignores_formatting_but_not_substance() -> None:
    text = policy_text("age_on(as_of) >= 70")
    reformatted = "# a comment\n" + text.replace("title: 测试政策", "title:    测试政策  ")
    assert load_text(text).version == load_text(reformatted).version
    assert load_text(text).version != load_text(policy_text("age_on(as_of) >= 71")).version
    assert len(load_text(text).version) == 64


def test_circular_definitions() -> None:
    text = policy_text("a").replace(
        "conditions:",
        "definitions:\n  a: {expr: b, label: A}\n  b: {expr: a, label: B}\nconditions:",
    )
    assert any("circular definition" in m for _, _, m in issues_of(text))


def test_an_error_is_reported_once_not_again_by_its_dependents() -> None:
    text = policy_text("age >= 70").replace(
        "conditions:", "definitions:\n  age: {expr: age_on(as_of) +, label: 年龄}\nconditions:"
    )
    found = issues_of(text)
    assert len(found) == 1 and "expected a value" in found[0][2]
