"""Finding the people and enterprises of the seeded web city a test needs (a citizen with a
granted allowance and an e-certificate, a parent of a child benefit, an enterprise waiting to
confirm its bank account, ...), with the ID numbers they sign in with (read from the city's
CSV files: the database holds them only encrypted)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.privacy import keyring


@dataclass(frozen=True)
class Citizen:
    id_number: str
    subject_key: str


@cache
def _id_numbers(city_dir: Path) -> dict[str, str]:
    with (city_dir / "person.csv").open(encoding="utf-8") as handle:
        return {keyring().subject_key(row["id_number"]): row["id_number"]
                for row in csv.DictReader(handle) if row.get("id_number")}


def _citizen(engine: Engine, city_dir: Path, sql: str, offset: int = 0) -> Citizen:
    numbers = _id_numbers(city_dir)
    with engine.connect() as connection:
        keys = [row[0] for row in connection.execute(text(sql))]
    usable = [k for k in keys if k in numbers]
    assert len(usable) > offset, f"the seeded city has no such citizen: {sql}"
    return Citizen(numbers[usable[offset]], usable[offset])


def citizen_with_certificate(engine: Engine, city_dir: Path, offset: int = 0) -> Citizen:
    """A person with a granted monthly allowance and a valid e-certificate, who has not objected
    to anything nor refused automated decisions yet (tests may do that to them)."""
    return _citizen(engine, city_dir, """
        SELECT g.subject_key FROM benefit_grant g
        JOIN certificate c ON c.subject_key = g.subject_key AND c.status = 'valid'
        JOIN person p ON p.subject_key = g.subject_key AND p.status = 'active'
        WHERE g.state = 'granted' AND g.period_kind = 'month' AND g.subject_kind = 'person'
          AND p.mobile_index IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM objection o JOIN benefit_grant o_g ON o_g.id = o.grant_id
                          WHERE o_g.subject_key = g.subject_key)
          AND NOT EXISTS (SELECT 1 FROM automation_refusal r WHERE r.subject_key = g.subject_key)
        GROUP BY g.subject_key ORDER BY g.subject_key""", offset)


def mother_with_birth_certificate(engine: Engine, city_dir: Path) -> tuple[Citizen, str]:
    """A mother in the registry and the number of her child's birth certificate."""
    mother = _citizen(engine, city_dir, """
        SELECT b.mother_key FROM birth_certificate b
        JOIN person p ON p.subject_key = b.mother_key ORDER BY b.certificate_no""")
    with engine.connect() as connection:
        number = connection.execute(text(
            "SELECT certificate_no FROM birth_certificate WHERE mother_key = :k LIMIT 1"),
            {"k": mother.subject_key}).scalar_one()
    return mother, str(number)


def enterprise_awaiting_confirmation(engine: Engine, offset: int = 0) -> tuple[str, int]:
    """(USCC, grant id) of an enterprise grant waiting for its bank account."""
    with engine.connect() as connection:
        rows = list(connection.execute(text("""
            SELECT subject_key, id FROM benefit_grant
            WHERE subject_kind = 'enterprise' AND state = 'awaiting_confirmation'
            ORDER BY id""")))
    assert len(rows) > offset, "the seeded city has no enterprise awaiting confirmation"
    return str(rows[offset][0]), int(rows[offset][1])


def enterprise_grant_of_other(engine: Engine, uscc: str) -> int:
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT id FROM benefit_grant WHERE subject_kind = 'enterprise' AND subject_key <> :u "
            "ORDER BY id LIMIT 1"), {"u": uscc}).first()
    assert row is not None
    return int(row[0])


def legal_rep_name(city_dir: Path, uscc: str) -> str:
    with (city_dir / "enterprise.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("uscc") == uscc:
                return row["legal_rep_name"]
    raise AssertionError(f"{uscc} not in the city's enterprise file")
