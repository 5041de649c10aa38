"""Validation rules, one hand-made dirty row per rule, with the exact reason each gets."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from app.datahub.catalog import dataset
from app.datahub.validation import REASON, ROW, SeenKeys, validate
from tests import citizens

GOOD_ID = citizens.id_number(born=date(1956, 3, 1), sequence=123)  # a man born 1956-03-01
MASKED = GOOD_ID[:6] + "********" + GOOD_ID[-4:]


def _frame(rows: list[dict[str, Any]], first_row: int = 1) -> pl.DataFrame:
    names = [f.name for f in dataset(rows[0].get("_dataset", "person")).all_fields]
    columns = {name: [row.get(name) for row in rows] for name in names}
    frame = pl.DataFrame(columns, schema={name: pl.String for name in names})
    return frame.with_row_index(ROW, offset=first_row)


def _reasons(name: str, rows: list[dict[str, Any]], **kwargs: Any) -> dict[int, str]:
    result = validate(_frame(rows), dataset(name), **kwargs)
    return dict(zip(result.rejected[ROW].to_list(), result.rejected[REASON].to_list(),
                    strict=True))


def _person(**changes: Any) -> dict[str, Any]:
    base = {"id_number": GOOD_ID, "sex": "M", "birth_date": "1956-03-01",
            "mobile": "13812345678"}
    return citizens.person(1, **{**base, **changes})


def _bad_check(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


PERSON_CASES = [
    ({"name": ""}, "name: required value missing"),
    ({"id_number": "44060419560301123"},
     "id_number: not a resident ID number (18 characters: 17 digits, then a digit or X): "
     "440604*******1123"),
    ({"id_number": _bad_check(GOOD_ID)},
     "id_number: check character does not match (GB 11643, ISO 7064 MOD 11-2): "
     + _bad_check(GOOD_ID)[:6] + "********" + _bad_check(GOOD_ID)[-4:]),
    ({"id_number": citizens.id_number(born=date(1956, 3, 1), region="999999")},
     "id_number: unknown region code 999999 in the first 6 digits (GB/T 2260): 999999********"
     + citizens.id_number(born=date(1956, 3, 1), region="999999")[-4:]),
    ({"birth_date": "1956-03-02"},
     f"birth_date: 1956-03-02 disagrees with the birth date in id_number {MASKED}"),
    ({"sex": "F"}, f"sex: F disagrees with id_number {MASKED} (17th digit odd = M, even = F)"),
    ({"region_code": "449999"}, 'region_code: unknown region code (GB/T 2260): "449999"'),
    ({"as_of": "2023-02-30"},
     'as_of: not a valid ISO date (YYYY-MM-DD, years 1800-2199): "2023-02-30"'),
    ({"status": "alive"}, 'status: "alive" is not one of active, deceased, moved_out, cancelled'),
    ({"source_dept": "tax"},
     'source_dept: "tax" is not a source department of person (allowed: public_security)'),
    ({"mobile": "1381234567"},
     "mobile: not a mainland mobile number (11 digits starting 13-19): 138***4567"),
]


@pytest.mark.parametrize(("changes", "reason"), PERSON_CASES)
def test_each_person_rule_has_its_reason(changes: dict[str, Any], reason: str) -> None:
    assert _reasons("person", [_person(), _person(**changes)]) == {2: reason}


def test_id_number_with_an_impossible_birth_date() -> None:
    body = "44060419560230123"  # 30 February
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    reasons = _reasons("person", [_person(id_number=number, birth_date="1956-03-01")])
    assert reasons == {1: "id_number: the birth date inside the number is not a valid date: "
                          f"440604********{number[-4:]}"}


def test_several_problems_are_all_reported_and_nothing_personal_is_quoted() -> None:
    reasons = _reasons("person", [_person(name="", sex="X", mobile="999", address="秘密街1号")])
    assert reasons == {1: 'name: required value missing; sex: "X" is not one of M, F; '
                          "mobile: not a mainland mobile number (11 digits starting 13-19): ***"}


def test_values_are_trimmed_and_typed_and_lower_case_x_is_accepted() -> None:
    number = citizens.id_number_ending_in_x(born=date(1949, 12, 31))
    row = _person(id_number=f" {number.lower()} ", sex="F", birth_date="1949-12-31 ",
                  address="  ")
    result = validate(_frame([row]), dataset("person"))
    assert result.rejected.is_empty()
    valid = result.valid.row(0, named=True)
    assert valid["id_number"] == number
    assert valid["birth_date"] == date(1949, 12, 31)
    assert valid["address"] is None


def test_numbers_ranges_periods_and_lengths() -> None:
    rows = [
        citizens.ui_contribution(1),
        citizens.ui_contribution(2, period="2024-13"),
        citizens.ui_contribution(3, insured_headcount="-1"),
        citizens.ui_contribution(4, contribution_fen="12.50"),
        citizens.ui_contribution(5, uscc=citizens.credit_code(5)[:-1] + "I"),
        citizens.ui_contribution(6, uscc=_bad_check(citizens.credit_code(6))),
    ]
    for row in rows:
        row["_dataset"] = "ui_contribution"
    code5, code6 = citizens.credit_code(5)[:-1] + "I", _bad_check(citizens.credit_code(6))
    assert _reasons("ui_contribution", rows) == {
        2: 'period: not a valid period (YYYY-MM): "2024-13"',
        3: "insured_headcount: -1 is below the minimum 0",
        4: 'contribution_fen: not a whole number of fen: "12.50"',
        5: f'uscc: not a unified social credit code (18 characters of the GB 32100 alphabet): '
           f'"{code5}"',
        6: f'uscc: check character does not match (GB 32100): "{code6}"',
    }
    tax = {"_dataset": "tax_status", "uscc": citizens.credit_code(1), "year": "2101",
           "annual_revenue_fen": "1", "arrears_fen": "0", "source_dept": "tax",
           "as_of": citizens.AS_OF}
    assert _reasons("tax_status", [tax]) == {1: "year: 2101 is above the maximum 2100"}
    move = {"_dataset": "hukou_move", "move_no": "M" * 41, "id_number": GOOD_ID,
            "direction": "in", "move_date": "2024-01-02", "source_dept": "public_security",
            "as_of": citizens.AS_OF}
    assert _reasons("hukou_move", [move]) == {1: "move_no: longer than 40 characters"}


def test_duplicates_within_a_file_first_wins_across_batches() -> None:
    seen = SeenKeys()
    first = validate(_frame([_person(), _person(name="张三", id_number=GOOD_ID)]),
                     dataset("person"), seen=seen)
    assert first.valid[ROW].to_list() == [1]
    assert first.rejected[REASON].to_list() == ["duplicate of row 1 (same id_number)"]
    later = validate(_frame([_person(id_number=GOOD_ID.lower())], first_row=3),
                     dataset("person"), seen=seen)
    assert later.rejected[REASON].to_list() == ["duplicate of row 1 (same id_number)"]


def test_a_rejected_first_row_does_not_make_the_next_one_a_duplicate() -> None:
    result = validate(_frame([_person(status="alive"), _person()]), dataset("person"))
    assert result.valid[ROW].to_list() == [2]


def test_references_are_resolved_through_the_lookup() -> None:
    held_code = citizens.credit_code(1)
    asked: list[tuple[str, list[str]]] = []

    def lookup(ref: str, values: pl.Series) -> pl.Series:
        asked.append((ref, values.to_list()))
        return values == held_code

    rows = [citizens.ui_contribution(1), citizens.ui_contribution(2)]
    for row in rows:
        row["_dataset"] = "ui_contribution"
    reasons = _reasons("ui_contribution", rows, references=lookup)
    assert reasons == {2: "uscc: no enterprise with this value is held or in this import: "
                          f'"{citizens.credit_code(2)}"'}
    assert asked == [("enterprise.uscc", [held_code, citizens.credit_code(2)])]


def test_a_birth_certificate_without_the_childs_id_number_is_valid() -> None:
    mother = citizens.id_number(born=date(1990, 5, 6), sequence=42)
    row = {"_dataset": "birth_certificate", "certificate_no": "Q440600001",
           "child_id_number": "", "child_name": "陈小明", "child_sex": "M",
           "birth_date": "2026-10-01", "birth_region": "440604", "mother_id_number": mother,
           "father_id_number": "", "source_dept": "health", "as_of": citizens.AS_OF}
    child = citizens.id_number(born=date(2026, 10, 2), sequence=7)
    assert _reasons("birth_certificate", [row, {**row, "certificate_no": "Q2",
                                                 "child_id_number": child}]) == {
        2: f"birth_date: 2026-10-01 disagrees with the birth date in child_id_number "
           f"{child[:6]}********{child[-4:]}",
    }


def test_region_fields_take_todays_codes_id_numbers_also_former_ones() -> None:
    former = citizens.id_number(region="440602", born=date(1956, 3, 1), sequence=123)
    rows = [_person(id_number=former), _person(region_code="440602")]
    assert _reasons("person", rows) == {
        2: 'region_code: unknown region code (GB/T 2260): "440602"'
    }
