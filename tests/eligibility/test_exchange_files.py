"""Frames read straight from exchange files (the benchmark's path) treat dirty rows as the import
does: a row without its ID number is dropped and a repeated row counts once, so a duplicated
person is neither evaluated nor counted twice (the cause of the benchmark's count differences
with durable_rules and the hand-written 高龄津贴 query)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from eligibility.evaluator import evaluate_population
from eligibility.frames import from_exchange_files
from eligibility.policy import load_file
from tests.eligibility.test_repository import POLICIES, id_number

HEADER = "id_number,name,sex,birth_date,region_code,address,mobile,status,source_dept,as_of\n"


def _row(number: str, birth: str) -> str:
    return f"{number},某某,M,{birth},440604,,,active,public_security,2025-02-28\n"


def test_duplicated_and_keyless_rows_are_counted_once(tmp_path: Path) -> None:
    old = id_number(date(1940, 1, 15), 1)
    other = id_number(date(1944, 5, 5), 3)
    (tmp_path / "person.csv").write_text(
        HEADER + _row(old, "1940-01-15") + _row(other, "1944-05-05") + _row(old, "1940-01-15")
        + _row("", "1941-02-02"),
        encoding="utf-8",
    )
    (tmp_path / "death_record.csv").write_text(
        "id_number,date_of_death,source_kind,source_dept,as_of\n"
        f"{other},2025-02-01,police,public_security,2025-02-28\n"
        f"{other},2025-02-01,hospital,health,2025-02-28\n"
        f"{other},2025-02-01,hospital,health,2025-02-28\n",
        encoding="utf-8",
    )
    data = from_exchange_files(tmp_path, "person", subject_key=lambda number: f"k{number[-4:]}")
    assert data.base.height == 2 and data.base.get_column("subject_key").n_unique() == 2
    assert data.frame("death_record").height == 2  # two sources, the repeated one dropped
    policy = load_file(POLICIES / "longevity-allowance.yaml")
    result = evaluate_population(policy, data, date(2025, 3, 1))
    assert result.height == 2 and int(result.get_column("eligible").sum()) == 1
