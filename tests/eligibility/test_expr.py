"""The expression language: parsing, type checking against the catalog, positions, limits."""

from __future__ import annotations

import pytest

from eligibility.expr import ExprError, Scope, check, parse
from eligibility.expr import types as t
from eligibility.views import view


def typed(text: str, kind: str = "person") -> t.Type:
    scope = Scope(view(kind), params={"rate": t.DECIMAL, "amount": t.MONEY})
    return check(parse(text), scope)[0]


def error_of(text: str, kind: str = "person") -> ExprError:
    with pytest.raises(ExprError) as info:
        typed(text, kind)
    return info.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("age_on(as_of) >= 70", t.BOOL),
        ("birth_date", t.DATE),
        ("months_between(birth_date, as_of)", t.INT),
        ("count(death_record where date_of_death <= as_of)", t.INT),
        ("exists(死亡记录)", t.BOOL),
        ('出生日期 < date("2000-01-01")', t.BOOL),
        ("param.amount * 2", t.MONEY),
        ("param.amount * param.rate", t.MONEY),
        ("param.amount / param.amount", t.DECIMAL),
        ('if status == "active" then 1 else 2.5', t.DECIMAL),
        ("period_of(as_of) - 1", t.PERIOD),
        ('sex in ["M", "F"]', t.BOOL),
        ('min(social_assistance.start_date where assistance_kind == "dibao")', t.DATE),
        ("add_working_days(as_of, 5)", t.DATE),
        ("yuan(1500)", t.MONEY),
        ("not present(birth_date) 或 age_on(基准日) >= 60", t.BOOL),
        ('1 + if sex == "F" then 2 else 3', t.INT),
    ],
)
def test_types(text: str, expected: t.Type) -> None:
    assert typed(text) == expected


def test_enterprise_aggregates() -> None:
    text = "sum(ui_contribution.contribution_fen where period in last_months(as_of, 12))"
    assert typed(text, "enterprise") == t.MONEY
    assert typed("avg(ui_contribution.insured_headcount)", "enterprise") == t.DECIMAL


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('age_on(as_of) >= "70"', 1, 1, "cannot compare int with string"),
        ('status == "alive"', 1, 11, "'alive' is not a possible value"),
        ("birth_dat > as_of", 1, 1, "unknown name 'birth_dat'"),
        ("frobnicate(as_of)", 1, 1, "unknown function 'frobnicate'"),
        ("exists(death_records)", 1, 8, "unknown related dataset 'death_records'"),
        ("sum(death_record)", 1, 5, "sum() needs a field"),
        ("death_record", 1, 1, "is a related dataset"),
        ("param.missing > 1", 1, 1, "unknown parameter 'missing'"),
        ('age_on(as_of) >= 60 and\n  region_code = "440604"', 2, 15, "use '=='"),
        ("1 < 2 < 3", 1, 7, "comparisons do not chain"),
        (
            "exists(death_record where count(death_record) > 1)",
            1,
            27,
            "aggregates cannot be nested",
        ),
        ("exists(death_record where birth_date < as_of)", 1, 27, "death_record has no field"),
        ('date("2025-02-30")', 1, 6, "day is out of range"),
        ('status < "active"', 1, 1, "does not order"),
        ("param.amount * param.amount > 1", 1, 1, "cannot apply '*'"),
    ],
)
def test_errors_have_positions(text: str, line: int, column: int, fragment: str) -> None:
    error = error_of(text)
    assert fragment in error.message
    assert (error.pos.line, error.pos.column) == (line, column)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "birth_date.__class__",
        "_private",
        "a.b.c.d",
        "open('x')",
        "param.__dict__",
        "[x for x in y]",
        "lambda: 1",
        "1; 2",
        "x := 1",
    ],
)
def test_python_is_not_the_language(text: str) -> None:
    with pytest.raises(ExprError):
        typed(text)


def test_limits() -> None:
    assert "nested deeper" in error_of("(" * 60 + "1" + ")" * 60).message
    assert "too large" in error_of("1" * 40).message
    assert "longer than" in error_of('"' + "x" * 300 + '"').message
    assert "longer than" in error_of("1 + " * 2000 + "1").message
    assert "levels" in error_of(" + ".join(["1"] * 80)).message


def test_percent_and_underscored_numbers() -> None:
    node = parse("5.5%")
    assert str(node.value) == "0.055"  # type: ignore[attr-defined]
    assert parse("1_000_000").value == 1_000_000  # type: ignore[attr-defined]


def test_chinese_aliases_come_from_catalog_labels() -> None:
    person = view("person")
    assert person.field_aliases["出生日期"] == "birth_date"
    assert person.field_aliases["户籍状态"] == "status"
    assert person.relation_aliases["残疾人证"] == "disability_certificate"
