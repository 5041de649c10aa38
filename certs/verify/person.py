"""Real-name verification (实名核验) against the population registry: is (name, ID number) a
person the city knows, with that name, and alive?

Outcomes: ``invalid_id`` (wrong length/format or check digit), ``invalid_birth_date`` (the
embedded birth date does not exist or is in the future), ``not_found``, ``mismatch`` (the name
differs), ``deceased`` (name matches, a death record or registry status says deceased) and
``match``. The ID number only ever becomes the pseudonymous subject key; the registry name is
decrypted in memory to compare and never returned or logged. One indexed lookup by subject key
(the death record is a sub-query of it). Not here: callers, scopes and the call log (``api``,
``call_log``), enterprise and status checks.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import UTC, date, datetime

from pydantic import BaseModel
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, ValidationError

from app.privacy import keyring
from certs.verify import repository
from certs.verify.repository import Executor, PersonRow

log = logging.getLogger(__name__)

MESSAGES = {
    "match": "姓名与公民身份号码一致",
    "mismatch": "姓名与公民身份号码不一致",
    "deceased": "该公民已死亡",
    "not_found": "户籍人口库中无此公民身份号码",
    "invalid_id": "公民身份号码格式或校验位错误",
    "invalid_birth_date": "公民身份号码中的出生日期无效",
}


class PersonCheck(BaseModel):
    outcome: str
    message: str  # Simplified Chinese

    @property
    def matched(self) -> bool:
        return self.outcome == "match"


def result_of(outcome: str) -> PersonCheck:
    return PersonCheck(outcome=outcome, message=MESSAGES[outcome])


def normalise_name(name: str) -> str:
    return unicodedata.normalize("NFKC", name).replace(" ", "").replace("·", "•").strip()


def validate_id_number(id_number: str, today: date | None = None) -> str | None:
    """``None`` when valid, else the outcome naming what is wrong."""
    number = (id_number or "").strip().upper()
    if len(number) != 18 or not number[:17].isdigit():
        return "invalid_id"
    try:
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
    except (InvalidChecksum, ValueError):
        return "invalid_id"
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        return "invalid_birth_date"
    if born > (today or datetime.now(UTC).date()):
        return "invalid_birth_date"
    return None


def subject_of(id_number: str, today: date | None = None) -> tuple[str | None, str]:
    """``(problem, subject key)``: the outcome naming what is wrong with the number, or
    ``None`` and the key to look the person up by."""
    problem = validate_id_number(id_number, today)
    return problem, ("" if problem else keyring().subject_key(id_number))


def check_person(executor: Executor, name: str, id_number: str,
                 today: date | None = None) -> PersonCheck:
    problem, key = subject_of(id_number, today)
    if problem is not None:
        return result_of(problem)
    return judge_person(name, repository.person(executor, key))


def judge_person(name: str, person: PersonRow | None) -> PersonCheck:
    """The outcome for a person row already fetched (``None``: not in the registry)."""
    if person is None or not person.pii:
        return result_of("not_found")
    registered = str(keyring().decrypt_json(person.pii).get("name", ""))
    if not name or normalise_name(registered) != normalise_name(name):
        return result_of("mismatch")
    if person.status == "deceased" or person.death_id is not None:
        return result_of("deceased")
    return result_of("match")
