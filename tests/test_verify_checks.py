"""The verification checks against a registry loaded by the real importer, on both databases:
every outcome of the real-name, enterprise and status checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from certs.verify.enterprise import check_enterprise
from certs.verify.person import check_person
from certs.verify.status import StatusKind, check_status
from tests.citizens import credit_code
from tests.verify_support import TODAY, Registry, load_registry


@pytest.fixture
def registry(engine: Engine, tmp_path: Path) -> Registry:
    return load_registry(engine, tmp_path)


def test_person_check(engine: Engine, registry: Registry) -> None:
    with engine.connect() as c:
        assert check_person(c, "陈一文", registry.alive, TODAY).outcome == "match"
        assert check_person(c, " 陈一文 ", registry.alive.lower(), TODAY).outcome == "match"
        assert check_person(c, "陈一", registry.alive, TODAY).outcome == "mismatch"
        assert check_person(c, "", registry.alive, TODAY).outcome == "mismatch"
        assert check_person(c, "陈二文", registry.dead, TODAY).outcome == "deceased"
        assert check_person(c, "陈二文", registry.absent, TODAY).outcome == "not_found"
        wrong = registry.alive[:-1] + ("0" if registry.alive[-1] != "0" else "1")
        assert check_person(c, "陈一文", wrong, TODAY).outcome == "invalid_id"
        assert check_person(c, "陈一文", "not a number", TODAY).outcome == "invalid_id"
        # born "tomorrow" relative to an earlier day: a valid checksum, an impossible birth date
        assert check_person(c, "陈一文", registry.alive, date(1949, 12, 31)).outcome == \
            "invalid_birth_date"


def test_enterprise_check(engine: Engine, registry: Registry) -> None:
    name = "佛山市禅城区测试1有限公司"
    with engine.connect() as c:
        assert check_enterprise(c, registry.active_uscc, name, "李四").outcome == "match"
        assert check_enterprise(c, registry.active_uscc.lower(), " 佛山市禅城区测试1有限公司",
                                "李四").outcome == "match"
        assert check_enterprise(c, registry.active_uscc, "别的公司", "李四").outcome == \
            "name_mismatch"
        assert check_enterprise(c, registry.active_uscc, name, "王五").outcome == \
            "legal_rep_mismatch"
        closed = check_enterprise(c, registry.closed_uscc, "佛山市禅城区测试2有限公司", "李四")
        assert closed.outcome == "deregistered" and not closed.matched
        assert check_enterprise(c, credit_code(3), name, "李四").outcome == "not_found"
        bad = registry.active_uscc[:-1] + ("0" if registry.active_uscc[-1] != "0" else "1")
        assert check_enterprise(c, bad, name, "李四").outcome == "invalid_uscc"


STATUS_CASES = [
    ("alive", StatusKind.ALIVE, "alive", {}),
    ("dead", StatusKind.ALIVE, "deceased", {}),
    ("absent", StatusKind.ALIVE, "not_found", {}),
    ("widow", StatusKind.MARITAL_STATUS, "widowed", {}),
    ("divorced", StatusKind.MARITAL_STATUS, "divorced", {"since": "2015-05-01"}),
    ("disabled", StatusKind.MARITAL_STATUS, "married", {"since": "2026-01-01"}),
    ("legal_rep", StatusKind.MARITAL_STATUS, "no_record", {}),
    ("legal_rep", StatusKind.LEGAL_PERSON, "legal_person", {"active_entities": 1}),
    ("alive", StatusKind.LEGAL_PERSON, "not_legal_person", {}),
    ("disabled", StatusKind.DISABILITY, "disabled",
     {"grade": 2, "types": ["physical"], "valid_to": "2030-01-01"}),
    ("expired", StatusKind.DISABILITY, "expired", {}),
    ("alive", StatusKind.DISABILITY, "none", {}),
    ("alive", StatusKind.SOCIAL_ASSISTANCE, "recipient", {"kinds": ["dibao"]}),
    ("expired", StatusKind.SOCIAL_ASSISTANCE, "ended", {}),
    ("legal_rep", StatusKind.SOCIAL_ASSISTANCE, "not_recipient", {}),
    ("alive", StatusKind.ELDERLY_SUBSIDY, "paid", {"last_period": "2026-10"}),
    ("widow", StatusKind.ELDERLY_SUBSIDY, "not_paid", {}),
    ("disabled", StatusKind.DISABILITY_SUBSIDY, "paid", {"last_period": "2026-11"}),
    ("alive", StatusKind.DISABILITY_SUBSIDY, "not_paid", {}),
    ("alive", StatusKind.EDUCATION, "unsupported", {}),
]


def test_status_checks(engine: Engine, registry: Registry) -> None:
    with engine.connect() as c:
        for who, kind, outcome, facts in STATUS_CASES:
            result = check_status(c, getattr(registry, who), kind, TODAY)
            assert (result.outcome, result.facts) == (outcome, facts), (who, kind)
            assert result.message


def test_status_check_rejects_bad_numbers(engine: Engine, registry: Registry) -> None:
    with engine.connect() as c:
        assert check_status(c, "12345", StatusKind.ALIVE, TODAY).outcome == "invalid_id"
        assert check_status(c, registry.alive, StatusKind.DISABILITY,
                            date(1949, 1, 1)).outcome == "invalid_birth_date"
