"""Hostile input: random and malicious policy text yields validation errors -- never another
exception, a hang, or code execution -- and anything that validates also evaluates."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.evaluator import evaluate_population
from eligibility.frames import from_inline
from eligibility.policy import PolicyError, load_text
from tests.eligibility.helpers import MINIMAL, policy_text

TIME_LIMIT = 3.0  # seconds per document, on a busy shared 2-core machine
CANARY = Path("/tmp/mianshen-fuzz-canary")

MALICIOUS_EXPRESSIONS = [
    "__import__('os').system('touch /tmp/mianshen-fuzz-canary')",
    "birth_date.__class__.__mro__[1].__subclasses__()",
    "().__class__.__bases__[0]",
    "eval('1')",
    "exec('import os')",
    "open('/etc/passwd')",
    "globals()",
    "getattr(param, 'x')",
    "param.__dict__",
    "as_of.year",
    "birth_date.replace(year=1)",
    "import os",
    "lambda x: x",
    "(" * 5000 + "1" + ")" * 5000,
    "not " * 5000 + "true",
    "-" * 5000 + "1",
    "[" * 5000,
    "9" * 100_000,
    "1e308 > 1",
    "99999999999999999999999999 > 1",
    "0.000000000000000000000000001 > 0",
    '"' + "x" * 100_000 + '"',
    "1 + " * 100_000 + "1",
    "age_on(as_of) >= 70 \x00",
    "exists(" * 3000,
    "count(death_record where " * 500,
    "a" * 100_000,
    "年龄" * 10_000,
    "f'{1}'",
    "b'x'",
    "1 if true else 2",
    "x[0]",
    "x @ y",
    "x ** 2",
    "x // 2",
    "~x",
    "x | y",
    "'\\u0041'",
    "\\",
    '"unterminated',
    "date('2025-99-99') > as_of",
    "add_days(as_of, 99999999999999) > as_of",
    "add_months(as_of, 999999999999999) > as_of",
    "date(99999999999, 1, 1) > as_of",
    'period(2025, 99) == period("2025-01")',
    "1 / 0 > 1",
    "yuan(999999999999999) > yuan(1)",
]

MALICIOUS_DOCUMENTS = [
    "!!python/object/apply:os.system ['touch /tmp/mianshen-fuzz-canary']",
    "id: !!python/object/apply:os.system ['touch /tmp/mianshen-fuzz-canary']",
    "a: &a [" + ",".join(["*a"] * 10) + "]",
    "\n".join(
        ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    ),
    "[" * 20_000 + "]" * 20_000,
    "{a: " * 5000 + "1" + "}" * 5000,
    "- " * 5000 + "x",
    "x" * 2_000_000,
    "\x00\x01\x02",
    "",
    "---\n---\n",
    "[1, 2, 3]",
    "just text",
    "id: 1\nid: 2",
    MINIMAL.replace("{kind}", "person").replace("{when}", "true").replace("{amount}", "1")[:300],
    policy_text("true").replace('value: "440604"', "value: " + "9" * 5000),
    policy_text("true").replace("from: 2020-01-01", "from: 99999-99-99"),
]


def assert_rejected_or_loaded(text: str) -> None:
    started = time.perf_counter()
    try:
        policy = load_text(text)
    except PolicyError as error:
        assert error.issues, "a rejection always says why"
        for issue in error.issues:
            assert isinstance(issue.message, str) and issue.line >= 0 and issue.column >= 0
    else:
        data = from_inline("person", {"birth_date": date(1950, 2, 28)}, {}, date(2025, 3, 1))
        evaluate_population(policy, data, date(2025, 3, 1))
    assert time.perf_counter() - started < TIME_LIMIT
    assert not CANARY.exists()


@pytest.mark.parametrize("expression", MALICIOUS_EXPRESSIONS, ids=range(len(MALICIOUS_EXPRESSIONS)))
def test_malicious_expressions(expression: str) -> None:
    assert_rejected_or_loaded(policy_text(expression.replace("'", "''").join("''")))
    assert_rejected_or_loaded(policy_text("true", amount=expression.replace("'", "''").join("''")))


@pytest.mark.parametrize("document", MALICIOUS_DOCUMENTS, ids=range(len(MALICIOUS_DOCUMENTS)))
def test_malicious_documents(document: str) -> None:
    assert_rejected_or_loaded(document)


TOKENS = [
    "age_on(as_of)",
    "birth_date",
    "as_of",
    "status",
    '"active"',
    "70",
    "5.5%",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "and",
    "or",
    "not",
    "in",
    "if",
    "then",
    "else",
    "where",
    "+",
    "-",
    "*",
    "/",
    "==",
    "<",
    ">=",
    "exists(",
    "count(",
    "sum(",
    "death_record",
    "date_of_death",
    "param",
    "local_region",
    'date("2025-01-01")',
    "true",
    "false",
    "months_between(",
    "yuan(",
    "__x",
    "年龄",
    "出生日期",
    "0",
    "999999999999999",
    "last_months(as_of, 12)",
    "period_of(as_of)",
]


@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_token_soup(tokens: list[str]) -> None:
    assert_rejected_or_loaded(policy_text(" ".join(tokens).replace("'", "''").join("''")))


@given(st.text(max_size=400))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_text_documents(text: str) -> None:
    assert_rejected_or_loaded(text)


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_text_expressions(text: str) -> None:
    assert_rejected_or_loaded(policy_text(text.replace("'", "''").join("''")))
