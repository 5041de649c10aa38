"""Concurrent lifecycle steps on real PostgreSQL: two officers uploading the same text at once get
one version; two approvers approving the same version at once: exactly one approval (the other
is refused) and one audit entry."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.audit.schemas import EntryKind
from app.db import engine_for
from app.errors import Conflict
from eligibility.registry import service
from tests.conftest import truncate_all
from tests.eligibility.registry_helpers import LONGEVITY_TEXT


def _together(work: Callable[[str], Any], names: list[str]) -> dict[str, Any]:
    barrier = threading.Barrier(len(names))
    outcome: dict[str, Any] = {}

    def run(name: str) -> None:
        barrier.wait()
        try:
            outcome[name] = work(name)
        except Exception as error:  # the outcome is what the test checks
            outcome[name] = error

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = engine_for(pg_url)
    yield engine
    truncate_all(engine)


def test_concurrent_uploads_and_approvals(pg_engine: Any) -> None:
    def upload(author: str) -> int | None:
        with Session(pg_engine) as session:
            version, _ = service.create_draft(session, LONGEVITY_TEXT, author)
            session.commit()
            return version.id

    ids = _together(upload, ["officer.li", "officer.wang", "officer.zhou"])
    assert len(set(ids.values())) == 1 and all(isinstance(i, int) for i in ids.values())
    version_id = next(iter(ids.values()))
    with Session(pg_engine) as session:
        version = service.resolve(session, str(version_id))
        service.submit(session, version, version.author)
        session.commit()

    def approve(approver: str) -> str:
        with Session(pg_engine) as session:
            row = service.resolve(session, str(version_id))
            service.approve(session, row, approver, date(2025, 1, 1))
            session.commit()
            return approver

    outcome = _together(approve, ["approver.zhao", "approver.qian"])
    winners = [v for v in outcome.values() if isinstance(v, str)]
    assert len(winners) == 1
    assert [type(v) for v in outcome.values() if not isinstance(v, str)] == [Conflict]
    with pg_engine.connect() as connection:
        entries = connection.execute(
            text("SELECT count(*) FROM audit_entry WHERE kind = :k"),
            {"k": EntryKind.POLICY_APPROVED.value},
        ).scalar_one()
        approver = connection.execute(text("SELECT approved_by FROM policy_version")).scalar_one()
    assert entries == 1 and approver == winners[0]
