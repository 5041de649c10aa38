"""Enterprise check (企业核验): does (USCC, name, legal representative) match the market-entity
registry, and is the entity still registered?

Outcomes: ``invalid_uscc`` (GB 32100 format or check character), ``not_found``,
``name_mismatch``, ``legal_rep_mismatch``, ``deregistered`` / ``revoked`` (the three match but
the entity is no longer active) and ``match``. The legal representative's registered name is
decrypted in memory to compare and never returned or logged.
"""

from __future__ import annotations

import unicodedata

from pydantic import BaseModel
from stdnum.cn import uscc as uscc_format
from stdnum.exceptions import ValidationError

from app.privacy import keyring
from certs.verify import repository
from certs.verify.person import normalise_name
from certs.verify.repository import Executor

MESSAGES = {
    "match": "统一社会信用代码、名称与法定代表人一致",
    "invalid_uscc": "统一社会信用代码格式或校验位错误",
    "not_found": "市场主体登记库中无此统一社会信用代码",
    "name_mismatch": "市场主体名称与统一社会信用代码不一致",
    "legal_rep_mismatch": "法定代表人(经营者)姓名不一致",
    "deregistered": "该市场主体已注销",
    "revoked": "该市场主体已被吊销营业执照",
}


class EnterpriseCheck(BaseModel):
    outcome: str
    message: str  # Simplified Chinese

    @property
    def matched(self) -> bool:
        return self.outcome == "match"


def _result(outcome: str) -> EnterpriseCheck:
    return EnterpriseCheck(outcome=outcome, message=MESSAGES[outcome])


def normalise_uscc(code: str) -> str | None:
    """The canonical USCC, or ``None`` when it is not a valid GB 32100 code."""
    try:
        return str(uscc_format.validate((code or "").strip().upper()))
    except ValidationError:
        return None


def normalise_entity_name(name: str) -> str:
    """Full-width brackets and spaces do not make a different enterprise."""
    text = unicodedata.normalize("NFKC", name or "")
    return "".join(text.split())


def check_enterprise(executor: Executor, code: str, name: str,
                     legal_rep: str) -> EnterpriseCheck:
    uscc = normalise_uscc(code)
    if uscc is None:
        return _result("invalid_uscc")
    row = repository.enterprise(executor, uscc)
    if row is None:
        return _result("not_found")
    if not name or normalise_entity_name(row.name) != normalise_entity_name(name):
        return _result("name_mismatch")
    registered = str(keyring().decrypt_json(row.pii).get("legal_rep_name", "")) if row.pii else ""
    if not legal_rep or normalise_name(registered) != normalise_name(legal_rep):
        return _result("legal_rep_mismatch")
    if row.status in ("deregistered", "revoked"):
        return _result(row.status)
    return _result("match")
