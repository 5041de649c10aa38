"""Hand-made rows of the shared datasets for tests: valid ID numbers and USCCs (check characters
from ``stdnum``), and writers for CSV / JSONL files named after their dataset."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

from stdnum.cn import ric, uscc

from app.datahub.catalog import dataset

AS_OF = "2024-06-30"


def id_number(region: str = "440604", born: date = date(1956, 3, 1), sequence: int = 123) -> str:
    """A resident ID number that passes GB 11643; an odd ``sequence`` is a man."""
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def id_number_ending_in_x(born: date = date(1949, 12, 31)) -> str:
    """An ID number whose check character is X (a woman: even sequence)."""
    for sequence in range(0, 1000, 2):
        number = id_number(born=born, sequence=sequence)
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives X")  # pragma: no cover - one in eleven does


def credit_code(serial: int, region: str = "440604") -> str:
    """A unified social credit code that passes GB 32100."""
    body = f"91{region}MA{serial:07d}"
    return body + uscc.calc_check_digit(body)


def person(number: int, **changes: Any) -> dict[str, Any]:
    born = date(1950 + number % 50, 1 + number % 12, 1 + number % 28)
    sex = "M" if number % 2 else "F"
    row = {
        "id_number": id_number(born=born, sequence=(2 * number + (number % 2)) % 1000),
        "name": f"陈{'一二三四五六七八九十'[number % 10]}文",
        "sex": sex,
        "birth_date": born.isoformat(),
        "region_code": "440604",
        "address": f"佛山市禅城区祖庙路{number}号",
        "mobile": f"138{number:08d}",
        "status": "active",
        "source_dept": "public_security",
        "as_of": AS_OF,
    }
    row.update(changes)
    return row


def enterprise(serial: int, **changes: Any) -> dict[str, Any]:
    row = {
        "uscc": credit_code(serial),
        "name": f"佛山市禅城区测试{serial}有限公司",
        "kind": "enterprise",
        "industry_code": "C3311",
        "size_class": "small",
        "region_code": "440604",
        "registration_date": "2015-05-20",
        "status": "active",
        "legal_rep_name": "李四",
        "legal_rep_id_number": id_number(born=date(1970, 5, 5), sequence=serial % 1000),
        "source_dept": "market_regulation",
        "as_of": AS_OF,
    }
    row.update(changes)
    return row


def ui_contribution(serial: int, period: str = "2024-05", **changes: Any) -> dict[str, Any]:
    row = {
        "uscc": credit_code(serial),
        "period": period,
        "insured_headcount": "25",
        "contribution_fen": "1250000",
        "layoffs": "1",
        "graduates_hired": "0",
        "source_dept": "human_resources",
        "as_of": AS_OF,
    }
    row.update(changes)
    return row


def write_csv(directory: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    path = directory / f"{name}.csv"
    columns = [field.name for field in dataset(name).all_fields]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(directory: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    path = directory / f"{name}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
