"""Status checks (状态核验) of one person, by ID number: what the shared data can vouch for.

A registry keyed by :class:`StatusKind` maps each kind to its check. Every check first validates
the ID number (check digit, birth date) and needs the person in the population registry
(``invalid_id`` / ``invalid_birth_date`` / ``not_found`` otherwise). ``facts`` carries only what
the caller needs for the decision (a grade, a period), never names or other people's keys.

Education (学历) is ``unsupported``: the data catalog has no education dataset, so the platform
cannot vouch for it and says so rather than guessing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from certs.verify import repository
from certs.verify.person import MESSAGES as PERSON_MESSAGES
from certs.verify.person import subject_of
from certs.verify.repository import Executor, PersonRow


class StatusKind(enum.StrEnum):
    ALIVE = "alive"
    MARITAL_STATUS = "marital_status"
    LEGAL_PERSON = "legal_person"
    DISABILITY = "disability"
    SOCIAL_ASSISTANCE = "social_assistance"
    ELDERLY_SUBSIDY = "elderly_subsidy"
    DISABILITY_SUBSIDY = "disability_subsidy"
    EDUCATION = "education"


# Policies of the bundled catalog and legacy benefit codes that count as "subsidy paid".
ELDERLY_POLICIES = ("longevity-allowance",)
ELDERLY_LEGACY_CODES = ("longevity-allowance", "longevity_allowance")
DISABILITY_POLICIES = ("disability-living-subsidy", "disability-nursing-subsidy")
DISABILITY_LEGACY_CODES = (*DISABILITY_POLICIES, "disability_living_subsidy",
                           "disability_nursing_subsidy")

MESSAGES = {
    **PERSON_MESSAGES,
    "alive": "该公民健在",
    "married": "已婚(本市婚姻登记)",
    "divorced": "离婚(本市婚姻登记)",
    "widowed": "丧偶",
    "no_record": "本市婚姻登记库中无该公民的登记记录",
    "legal_person": "该公民是在业市场主体的法定代表人(经营者)",
    "not_legal_person": "该公民不是在业市场主体的法定代表人(经营者)",
    "disabled": "持有有效残疾人证",
    "expired": "残疾人证已过有效期",
    "none": "无残疾人证记录",
    "recipient": "正在享受社会救助",
    "ended": "曾享受社会救助,现已终止",
    "not_recipient": "无社会救助记录",
    "paid": "已发放",
    "not_paid": "无发放记录",
    "unsupported": "暂不支持该核验事项:数据目录中无学历数据",
}


class StatusCheck(BaseModel):
    kind: str
    outcome: str
    message: str  # Simplified Chinese
    facts: dict[str, Any] = {}


Outcome = tuple[str, dict[str, Any]]
Check = Callable[[Executor, str, PersonRow, date], Outcome]


def judge_alive(person: PersonRow | None) -> StatusCheck:
    """The ``alive`` answer for a person row already fetched (``None``: not in the registry)."""
    if person is None:
        return result_of(StatusKind.ALIVE, "not_found")
    return result_of(StatusKind.ALIVE, *_alive(None, "", person, date.min))


def _alive(_executor: Executor | None, _key: str, person: PersonRow, _today: date) -> Outcome:
    dead = person.status == "deceased" or person.death_id is not None
    return ("deceased" if dead else "alive"), {}


def _marital(executor: Executor, key: str, _person: PersonRow, _today: date) -> Outcome:
    registrations = repository.marriages(executor, key)
    if not registrations:
        return "no_record", {}
    latest = registrations[0]
    since = {"since": latest.registration_date.isoformat()}
    if latest.kind == "divorce":
        return "divorced", since
    spouse = latest.party_b_key if latest.party_a_key == key else latest.party_a_key
    if repository.has_death_record(executor, spouse):
        return "widowed", {}
    return "married", since


def _legal_person(executor: Executor, key: str, _person: PersonRow, _today: date) -> Outcome:
    active = [row for row in repository.enterprises_represented(executor, key)
              if row.status == "active"]
    if not active:
        return "not_legal_person", {}
    return "legal_person", {"active_entities": len(active)}


def _disability(executor: Executor, key: str, _person: PersonRow, today: date) -> Outcome:
    rows = repository.disabilities(executor, key)
    if not rows:
        return "none", {}
    valid = [r for r in rows
             if r.valid_from <= today and (r.valid_to is None or today <= r.valid_to)]
    if not valid:
        return "expired", {}
    most_severe = min(valid, key=lambda r: r.grade)
    return "disabled", {
        "grade": most_severe.grade,
        "types": sorted({r.disability_type for r in valid}),
        "valid_to": most_severe.valid_to.isoformat() if most_severe.valid_to else None,
    }


def _assistance(executor: Executor, key: str, _person: PersonRow, today: date) -> Outcome:
    rows = repository.assistance(executor, key)
    if not rows:
        return "not_recipient", {}
    current = sorted({r.assistance_kind for r in rows
                      if r.start_date <= today and (r.end_date is None or today <= r.end_date)})
    return ("recipient", {"kinds": current}) if current else ("ended", {})


def _paid(policies: tuple[str, ...], codes: tuple[str, ...]) -> Check:
    def check(executor: Executor, key: str, _person: PersonRow, _today: date) -> Outcome:
        period = repository.last_paid_period(executor, key, policies, codes)
        return ("paid", {"last_period": period}) if period else ("not_paid", {})

    return check


CHECKS: dict[StatusKind, Check] = {
    StatusKind.ALIVE: _alive,
    StatusKind.MARITAL_STATUS: _marital,
    StatusKind.LEGAL_PERSON: _legal_person,
    StatusKind.DISABILITY: _disability,
    StatusKind.SOCIAL_ASSISTANCE: _assistance,
    StatusKind.ELDERLY_SUBSIDY: _paid(ELDERLY_POLICIES, ELDERLY_LEGACY_CODES),
    StatusKind.DISABILITY_SUBSIDY: _paid(DISABILITY_POLICIES, DISABILITY_LEGACY_CODES),
}


def result_of(kind: StatusKind, outcome: str, facts: dict[str, Any] | None = None) -> StatusCheck:
    return StatusCheck(kind=kind.value, outcome=outcome, message=MESSAGES[outcome],
                       facts=facts or {})


def check_status(executor: Executor, id_number: str, kind: StatusKind,
                 today: date | None = None) -> StatusCheck:
    today = today or datetime.now(UTC).date()
    check = CHECKS.get(kind)
    if check is None:
        return result_of(kind, "unsupported")
    problem, key = subject_of(id_number, today)
    if problem is not None:
        return result_of(kind, problem)
    person = repository.person(executor, key)
    if person is None:
        return result_of(kind, "not_found")
    outcome, facts = check(executor, key, person, today)
    return result_of(kind, outcome, facts)
