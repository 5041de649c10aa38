"""Policy texts and registry steps shared by the registry, sweep/replay and API tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from eligibility.registry import service
from eligibility.registry.models import PolicyVersion

POLICIES = Path(__file__).resolve().parents[2] / "policies"
LONGEVITY_TEXT = (POLICIES / "longevity-allowance.yaml").read_text(encoding="utf-8")
OLD_AMOUNT_LINE = "      - {from: 2020-01-01, value: 7500}\n"


def longevity_paying(amount_fen: int) -> str:
    """The bundled 高龄津贴 with another 70–79 amount (a revision of substance)."""
    assert LONGEVITY_TEXT.count(OLD_AMOUNT_LINE) == 1, "the bundled file changed; adjust"
    return LONGEVITY_TEXT.replace(
        OLD_AMOUNT_LINE, f"      - {{from: 2020-01-01, value: {amount_fen}}}\n"
    )


def approved(engine: Engine, text: str, effective_from: date, author: str = "officer.li",
             approver: str = "approver.zhao") -> str:
    """Submit ``text`` and approve it; returns its content hash."""
    with Session(engine) as session:
        version, issues = service.create_draft(session, text, author)
        assert not issues
        service.submit(session, version, author)
        service.approve(session, version, approver, effective_from)
        session.commit()
        assert version.content_hash is not None
        return version.content_hash


def state_of(engine: Engine, content_hash: str) -> PolicyVersion:
    from eligibility.registry import repository

    with Session(engine) as session:
        row = repository.by_hash(session, content_hash)
        assert row is not None
        return row
