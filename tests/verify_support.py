"""A small registry for the verification tests, loaded through the real importer: people in
every state a status check distinguishes, enterprises, and their records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from app.datahub import service as datahub
from app.db import session_scope
from app.privacy import keyring
from eligibility.payments.models import Payment
from tests.citizens import credit_code, enterprise, id_number, person, write_csv

TODAY = date(2026, 11, 22)


@dataclass(frozen=True)
class Registry:
    alive: str  # 陈一文: divorced, 低保, elderly allowance paid by a legacy system
    dead: str  # 陈二文: death record
    disabled: str  # 陈三文: married, grade 2 certificate, disability subsidy paid (ledger)
    widow: str  # 陈四文: married to the dead man
    divorced: str  # 陈五文: married, then divorced
    legal_rep: str  # 李四: legal representative of the active enterprise
    expired: str  # 陈六文: only an expired disability certificate, 低保 ended
    absent: str  # valid number, not in the registry
    active_uscc: str
    closed_uscc: str


def _person_row(number: int, born: date, sequence: int, name: str, **changes: str) -> dict:
    return person(number, id_number=id_number(born=born, sequence=sequence), name=name,
                  birth_date=born.isoformat(), sex="M" if sequence % 2 else "F", **changes)


def load_registry(engine: Engine, directory: Path) -> Registry:
    people = [
        _person_row(1, date(1950, 1, 1), 11, "陈一文"),
        _person_row(2, date(1948, 3, 5), 21, "陈二文"),
        _person_row(3, date(1980, 6, 6), 31, "陈三文"),
        _person_row(4, date(1952, 2, 2), 42, "陈四文"),
        _person_row(5, date(1985, 8, 8), 52, "陈五文"),
        _person_row(6, date(1970, 5, 5), 61, "李四"),
        _person_row(7, date(1990, 9, 9), 71, "陈六文"),
    ]
    ids = [row["id_number"] for row in people]
    alive, dead, disabled, widow, divorced, legal_rep, expired = ids
    active_uscc, closed_uscc = credit_code(1), credit_code(2)
    common = {"as_of": "2026-11-01"}
    write_csv(directory, "person", people)
    write_csv(directory, "enterprise", [
        enterprise(1, name="佛山市禅城区测试1有限公司", legal_rep_name="李四",
                   legal_rep_id_number=legal_rep),
        enterprise(2, status="deregistered", legal_rep_name="李四",
                   legal_rep_id_number=legal_rep),
    ])
    write_csv(directory, "death_record", [
        {"id_number": dead, "date_of_death": "2026-10-01", "source_kind": "hospital",
         "source_dept": "health", **common}])
    write_csv(directory, "disability_certificate", [
        {"id_number": disabled, "disability_type": "physical", "grade": "2",
         "valid_from": "2020-01-01", "valid_to": "2030-01-01",
         "source_dept": "disabled_persons_federation", **common},
        {"id_number": expired, "disability_type": "visual", "grade": "4",
         "valid_from": "2010-01-01", "valid_to": "2020-01-01",
         "source_dept": "disabled_persons_federation", **common}])
    write_csv(directory, "social_assistance", [
        {"id_number": alive, "assistance_kind": "dibao", "household_id": "H1",
         "start_date": "2024-01-01", "source_dept": "civil_affairs", **common},
        {"id_number": expired, "assistance_kind": "tekun", "household_id": "H2",
         "start_date": "2020-01-01", "end_date": "2022-12-31",
         "source_dept": "civil_affairs", **common}])
    write_csv(directory, "marriage_registration", [
        {"registration_no": "M1", "party_a_id_number": dead, "party_b_id_number": widow,
         "kind": "marriage", "registration_date": "1975-05-01", "source_dept": "civil_affairs",
         **common},
        {"registration_no": "M2", "party_a_id_number": alive, "party_b_id_number": divorced,
         "kind": "marriage", "registration_date": "2010-05-01", "source_dept": "civil_affairs",
         **common},
        {"registration_no": "M3", "party_a_id_number": alive, "party_b_id_number": divorced,
         "kind": "divorce", "registration_date": "2015-05-01", "source_dept": "civil_affairs",
         **common},
        {"registration_no": "M4", "party_a_id_number": disabled, "party_b_id_number": expired,
         "kind": "marriage", "registration_date": "2026-01-01", "source_dept": "civil_affairs",
         **common}])
    write_csv(directory, "legacy_payment", [
        {"payment_ref": "L1", "id_number": alive, "benefit_code": "longevity_allowance",
         "period": "2026-10", "amount_fen": "20000", "source_dept": "civil_affairs", **common}])
    report = datahub.import_path(engine, directory)
    assert not report.errors, report.errors
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(Payment(grant_id=1, policy_id="disability-nursing-subsidy",
                            subject_key=keyring().subject_key(disabled), period="2026-11",
                            kind="regular", amount_fen=10000, status="batched",
                            created_at=now, updated_at=now))
    return Registry(alive, dead, disabled, widow, divorced, legal_rep, expired,
                    id_number(born=date(1977, 7, 7), sequence=99), active_uscc, closed_uscc)
