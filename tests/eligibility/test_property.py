"""Property test of principle 1: on random populations (with related records) and random
well-typed policies, evaluating the whole population and evaluating each subject alone give
the same result for every subject. Policies are generated as *text*, so the parser and checker
are exercised too; evaluation is also checked to be deterministic."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.evaluator import evaluate_population, evaluate_subject
from eligibility.frames import SubjectData, conform
from eligibility.policy import load_text

DATES = st.dates(date(1915, 1, 1), date(2026, 12, 31))
LEAPISH = st.sampled_from(
    [date(1948, 2, 29), date(1956, 2, 29), date(2000, 2, 29), date(1955, 3, 1)]
)
AS_OF = st.sampled_from([date(2024, 2, 29), date(2025, 3, 1), date(2025, 10, 1), date(2026, 2, 28)])


def lit_date(d: date) -> str:
    return f'date("{d.isoformat()}")'


@st.composite
def date_expr(draw: st.DrawFn, depth: int = 0) -> str:
    leaves = [
        "birth_date",
        "as_of",
        lit_date(draw(DATES)),
        "max(death_record.date_of_death)",
        'min(social_assistance.start_date where assistance_kind == "dibao")',
    ]
    if depth >= 2 or draw(st.booleans()):
        return draw(st.sampled_from(leaves))
    inner = draw(date_expr(depth + 1))
    n = draw(st.integers(-30, 30))
    return draw(
        st.sampled_from(
            [
                f"add_months({inner}, {n})",
                f"add_days({inner}, {n})",
                f"month_start({inner})",
                f"add_working_days({inner}, {abs(n) % 8})",
                f"date_of_age({abs(n) + 40})",
                f"month_end({inner})",
                f"add_years({inner}, {n % 5})",
            ]
        )
    )


@st.composite
def int_expr(draw: st.DrawFn, depth: int = 0) -> str:
    leaves = [
        str(draw(st.integers(-5, 120))),
        "age_on(as_of)",
        "count(death_record)",
        "count(disability_certificate where valid_from <= as_of)",
        "coalesce(min(disability_certificate.grade), 9)",
        "sum(disability_certificate.grade)",
        'count(marriage_registration where kind == "marriage")',
    ]
    if depth >= 2 or draw(st.booleans()):
        return draw(st.sampled_from(leaves))
    a, b = draw(int_expr(depth + 1)), draw(int_expr(depth + 1))
    d1, d2 = draw(date_expr(depth + 1)), draw(date_expr(depth + 1))
    return draw(
        st.sampled_from(
            [
                f"({a} + {b})",
                f"({a} - {b})",
                f"({a} * 3)",
                f"age_on({d1})",
                f"months_between({d1}, {d2})",
                f"year({d1})",
                f"greatest({a}, {b})",
                f"working_days_between({d1}, {d2})",
                f"(if {draw(bool_expr(depth + 1))} then {a} else {b})",
                f"days_between({d1}, {d2})",
                f"round({a} / 7)",
            ]
        )
    )


@st.composite
def related_condition(draw: st.DrawFn) -> str:
    return draw(
        st.sampled_from(
            [
                "exists(death_record where date_of_death <= as_of)",
                'exists(death_record where source_kind == "hospital")',
                "exists(disability_certificate where grade <= 2"
                " and (not present(valid_to) or valid_to >= as_of))",
                'exists(social_assistance where assistance_kind in ["dibao", "tekun"]'
                " and start_date <= as_of)",
                "exists(marriage_registration where registration_date <= as_of)",
                "count(hukou_move) == 0",
            ]
        )
    )


@st.composite
def bool_expr(draw: st.DrawFn, depth: int = 0) -> str:
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
    leaves = [
        f"({draw(int_expr(depth + 1))} {op} {draw(int_expr(depth + 1))})",
        f"({draw(date_expr(depth + 1))} {op} {draw(date_expr(depth + 1))})",
        'status in ["active", "moved_out"]',
        'sex == "F"',
        'starts_with(region_code, "4406")',
        draw(related_condition()),
        f"present({draw(date_expr(depth + 1))})",
        f"(period_of({draw(date_expr(depth + 1))}) in last_months(as_of, 12))",
    ]
    if depth >= 2 or draw(st.booleans()):
        return draw(st.sampled_from(leaves))
    a, b = draw(bool_expr(depth + 1)), draw(bool_expr(depth + 1))
    return draw(st.sampled_from([f"({a} and {b})", f"({a} or {b})", f"(not {a})"]))


@st.composite
def policies(draw: st.DrawFn) -> str:
    conditions = "\n".join(
        f"  - name: c{i}\n    description: 条件{i}\n"
        f"    when: '{draw(bool_expr()).replace(chr(39), chr(39) * 2)}'"
        for i in range(draw(st.integers(1, 3)))
    )
    cut = draw(st.integers(0, 100))
    return f"""\
id: random-policy
title: 随机政策
legal_basis: [{{document_number: R-1, title: 随机}}]
issuing_department: civil_affairs
subject: {{kind: person}}
effective: {{from: 2000-01-01}}
definitions:
  score: {{expr: '{draw(int_expr())}', label: 分值}}
conditions:
{conditions}
decision_tables:
  band:
    hit_policy: first
    inputs: [{{name: score, expr: score}}]
    outputs: [{{name: tier, type: string}}, {{name: amount, type: money}}]
    rules:
      - {{when: ["< {cut}"], then: [low, 100]}}
      - {{when: ["-"], then: [high, score]}}
benefit: {{kind: one_off_cash, name: 测试, amount: band.amount, tier: band.tier}}
triggers: [{{kind: daily_sweep}}]
process: {{steps: [auto_grant]}}
notification: {{template: random.policy}}
"""


@st.composite
def populations(draw: st.DrawFn) -> SubjectData:
    n = draw(st.integers(1, 8))
    keys = [f"p{i}" for i in range(n)]
    person = pl.DataFrame(
        {
            "subject_key": keys,
            "sex": draw(st.lists(st.sampled_from(["M", "F"]), min_size=n, max_size=n)),
            "birth_date": draw(
                st.lists(st.one_of(DATES, LEAPISH, st.none()), min_size=n, max_size=n)
            ),
            "region_code": draw(
                st.lists(st.sampled_from(["440604", "440103"]), min_size=n, max_size=n)
            ),
            "status": draw(
                st.lists(
                    st.sampled_from(["active", "moved_out", "deceased"]), min_size=n, max_size=n
                )
            ),
            "source_dept": ["public_security"] * n,
            "as_of": [date(2025, 1, 1)] * n,
        }
    )
    someone = st.sampled_from([*keys, "stranger"])

    def rows(count: int, make: object) -> list[dict[str, object]]:
        return [make() for _ in range(count)]  # type: ignore[operator]

    deaths = [
        {
            "subject_key": draw(someone),
            "date_of_death": draw(DATES),
            "source_kind": draw(st.sampled_from(["hospital", "police"])),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    certificates = [
        {
            "subject_key": draw(someone),
            "disability_type": "physical",
            "grade": draw(st.integers(1, 4)),
            "valid_from": draw(DATES),
            "valid_to": draw(st.one_of(st.none(), DATES)),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    assistance = [
        {
            "subject_key": draw(someone),
            "assistance_kind": draw(st.sampled_from(["dibao", "tekun"])),
            "household_id": "h",
            "start_date": draw(DATES),
            "end_date": None,
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    marriages = [
        {
            "registration_no": f"m{i}",
            "party_a_key": draw(someone),
            "party_b_key": draw(someone),
            "kind": "marriage",
            "registration_date": draw(DATES),
        }
        for i in range(draw(st.integers(0, 3)))
    ]
    frames = {"person": conform("person", person)}
    for name, records in (
        ("death_record", deaths),
        ("disability_certificate", certificates),
        ("social_assistance", assistance),
        ("marriage_registration", marriages),
    ):
        if records:
            frames[name] = conform(name, pl.DataFrame(records))
    del rows
    return SubjectData("person", frames)


@given(text=policies(), data=populations(), as_of=AS_OF)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_population_equals_single_subject(text: str, data: SubjectData, as_of: date) -> None:
    policy = load_text(text)
    population = evaluate_population(policy, data, as_of)
    assert population.height == data.base.height
    for row in population.to_dicts():
        alone = evaluate_subject(policy, data, row["subject_key"], as_of)
        assert alone == row, f"{row['subject_key']}: population {row} != alone {alone}"
    assert evaluate_population(policy, data, as_of).equals(population)
