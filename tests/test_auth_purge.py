"""Purge of spent sign-in state (``app.auth.purge``): sessions ended, expired or idle and SMS
sign-in codes expired or used more than ``purge_after_hours`` ago are deleted, the rest kept;
the same through the Celery task (beat schedule), the in-process runner of the embedded default
and ``mianshen sessions purge``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.auth import purge
from app.auth.models import AuthSession, OneTimeCode
from app.auth.tasks import purge_expired_task
from app.auth.tokens import utcnow
from app.celery_app import celery
from app.cli import cli
from app.db import session_scope
from tests.auth_support import configure

DAY = timedelta(days=1)


def _session(name: str, now: datetime, *, last_seen: timedelta = timedelta(0),
             expires: timedelta = DAY, ended: timedelta | None = None) -> AuthSession:
    return AuthSession(
        token_hash=name.ljust(64, "0"), kind="citizen", principal_id=f"citizen:{name}",
        subject_key=name, created_at=now - 2 * DAY, last_seen_at=now - last_seen,
        expires_at=now + expires, ended_at=None if ended is None else now - ended,
    )


def _code(identity: str, now: datetime, *, expires: timedelta,
          used: timedelta | None = None) -> OneTimeCode:
    return OneTimeCode(identity=identity, code_hash="0" * 64, created_at=now - 3 * DAY,
                       expires_at=now + expires, used_at=None if used is None else now - used)


def _seed(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add_all([
            _session("live", now),
            _session("ended-recently", now, ended=timedelta(hours=1)),
            _session("ended-long-ago", now, ended=2 * DAY),
            _session("expired-long-ago", now, expires=-2 * DAY),
            _session("idle-long-ago", now, last_seen=2 * DAY),
            _code("citizen:live", now, expires=timedelta(minutes=5)),
            _code("citizen:expired-recently", now, expires=-timedelta(minutes=5)),
            _code("citizen:expired-long-ago", now, expires=-2 * DAY),
            _code("citizen:used-long-ago", now, expires=-2 * DAY + timedelta(minutes=5),
                  used=2 * DAY),
        ])


def _left(engine: Engine) -> tuple[list[str], list[str]]:
    with engine.connect() as connection:
        sessions = connection.execute(select(AuthSession.subject_key)  # type: ignore[call-overload]
                                      .order_by(AuthSession.subject_key)).scalars().all()
        codes = connection.execute(select(OneTimeCode.identity)  # type: ignore[call-overload]
                                   .order_by(OneTimeCode.identity)).scalars().all()
    return list(sessions), list(codes)


def test_spent_sessions_and_codes_are_purged_after_the_grace_period(engine: Engine) -> None:
    _seed(engine)
    with session_scope(engine) as session:
        report = purge.purge_expired(session)
    assert (report.sessions, report.codes) == (3, 2)
    assert _left(engine) == (["ended-recently", "live"],
                             ["citizen:expired-recently", "citizen:live"])
    with session_scope(engine) as session:  # again: nothing more
        again = purge.purge_expired(session)
    assert (again.sessions, again.codes) == (0, 0)


def test_the_beat_task_the_in_process_runner_and_the_cli_purge(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MIANSHEN_DATABASE_URL=db_url)
    assert celery.conf.beat_schedule["auth-purge-expired"]["task"] == purge_expired_task.name
    assert "app.auth.tasks" in celery.conf.include  # what workers import
    _seed(engine)
    result = purge_expired_task.delay().get()  # eager: no Redis configured
    assert (result["sessions"], result["codes"]) == (3, 2)

    monkeypatch.setattr(purge, "_last_run", 0.0)
    now = utcnow()
    with session_scope(engine) as session:
        session.add(_session("ended-again", now, ended=2 * DAY))
    first = purge.run_in_process_when_due(engine)
    assert first is not None and first.sessions == 1
    assert purge.run_in_process_when_due(engine) is None  # not due again within the hour

    with session_scope(engine) as session:
        session.add(_code("citizen:expired-again", now, expires=-2 * DAY))
    answer = CliRunner().invoke(cli, ["sessions", "purge", "--json"])
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output)["codes"] == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(OneTimeCode)).scalar_one() == 2
