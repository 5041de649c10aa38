"""The payment file pays a policy that asks for a bank account to the account the beneficiary
confirmed (bank, holder and number in the file, masked everywhere else); a grant of such a
policy without a confirmed account is held out of the batch with its reason in the totals and
joins a later batch once confirmed; re-running a period gives the same bytes. Real SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.portal import actions
from app.portal.models import PayeeAccount
from app.portal.schemas import BankAccountRequest
from app.privacy import keyring
from app.settings import get_settings
from eligibility.grants.context import SweepContext
from eligibility.grants.models import Grant
from eligibility.grants.review import confirm
from eligibility.payments.batch import create_batch
from eligibility.payments.payees import UNCONFIRMED_ACCOUNT, account_policies
from eligibility.payments.schemas import BatchView
from tests.eligibility.test_repository import valid_data_key
from tests.support import data
from tests.support.queries import ledger

__all__ = ["valid_data_key"]  # autouse fixture: a valid development data key

POLICY = "job-retention-refund"  # bundled; process.confirmation: bank_account
TODAY = date(2025, 3, 10)
ACCOUNT = BankAccountRequest(bank_name="中国工商银行佛山分行", holder="测试企业有限公司",
                             account_number="6222020200112233445")


def _awaiting(engine: Engine, number: int, amount: int = 300_000) -> int:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    with Session(engine) as session:
        grant = Grant(
            policy_id=POLICY, policy_version="v", subject_kind="enterprise",
            subject_key=data.key(number), episode=1, state="awaiting_confirmation", is_open=True,
            benefit_kind="one_off_cash", benefit_code=POLICY, period_kind="once",
            amount_fen=amount, start_period="2025-03", start_date=date(2025, 3, 1),
            created_at=now, updated_at=now,
        )
        session.add(grant)
        session.commit()
        assert grant.id is not None
        return grant.id


def _confirm(engine: Engine, grant_id: int, account: BankAccountRequest | None) -> None:
    with Session(engine) as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        if account is not None:
            actions.confirm(session, grant, True, TODAY, "enterprise:test", account)
        else:  # confirmed without an account (an older path): the policy still asks for one
            confirm(SweepContext(session=session, backend_or_none=None, as_of=TODAY,
                                 actor="officer:zhang"), grant_id, True)
        session.commit()


def _batch(engine: Engine, period: str, out: Path) -> tuple[BatchView, bytes]:
    with Session(engine) as session:
        batch, path = create_batch(session, period, out)
        view = BatchView.of(batch)
        session.commit()
    return view, path.read_bytes()


def _lines(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def test_the_confirmed_account_is_paid_and_an_unconfirmed_one_held_out(
    engine: Engine, tmp_path: Path
) -> None:
    assert POLICY in account_policies()
    confirmed, unconfirmed = _awaiting(engine, 1), _awaiting(engine, 2, 500_000)
    _confirm(engine, confirmed, ACCOUNT)
    _confirm(engine, unconfirmed, None)

    view, content = _batch(engine, "2025-03", tmp_path / "a")
    lines = _lines(content)
    assert lines[0][-3:] == ["bank_name", "account_holder", "account_number"]
    [paid] = [line for line in lines[1:] if line[0].isdigit()]
    assert paid[1] == str(confirmed) and paid[-3:] == [
        ACCOUNT.bank_name, ACCOUNT.holder, ACCOUNT.account_number]
    assert ["TOTAL", "2025-03", "1", "300000"] in lines
    assert ["HELD", "2025-03", UNCONFIRMED_ACCOUNT, "1", "500000"] in lines
    assert (view.payment_count, view.total_fen, view.held_count, view.held_fen) == (
        1, 300_000, 1, 500_000)
    assert [(h.reason, h.reason_zh, h.payments) for h in view.held] == [
        (UNCONFIRMED_ACCOUNT, "收款银行账户未确认", 1)]
    assert ACCOUNT.account_number not in view.model_dump_json()
    assert [row[3] for row in ledger(engine, unconfirmed)] == ["due"]  # waits, not lost

    again, same = _batch(engine, "2025-03", tmp_path / "b")
    assert same == content and again.sha256 == view.sha256

    # Once the account is confirmed the held payment joins the next period's batch; the
    # earlier period still re-renders identically.
    with Session(engine) as session:
        session.add(PayeeAccount(
            grant_id=unconfirmed, subject_key=data.key(2), bank_name="中国银行佛山分行",
            account_masked="**** **** 9876",
            pii=keyring().encrypt_json({"holder": "另一企业",
                                        "account_number": "6216600000009876"}),
            confirmed_at=datetime(2025, 4, 2, tzinfo=UTC), confirmed_by="enterprise:test2",
        ))
        session.commit()
    april, april_content = _batch(engine, "2025-04", tmp_path / "c")
    assert april.payment_count == 1 and april.held_count == 0 and april.held == []
    assert any(line[1] == str(unconfirmed) and line[-1] == "6216600000009876"
               for line in _lines(april_content))
    assert _batch(engine, "2025-03", tmp_path / "d")[1] == content


def test_the_cli_shows_the_held_totals_and_no_account_number(
    db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    confirmed, unconfirmed = _awaiting(engine, 3), _awaiting(engine, 4, 200_000)
    _confirm(engine, confirmed, ACCOUNT)
    _confirm(engine, unconfirmed, None)
    monkeypatch.setenv("MIANSHEN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["payments", "batch", "--period", "2025-03", "--out",
                                          str(tmp_path), "--json"])
        text = CliRunner().invoke(cli, ["payments", "batch", "--period", "2025-03", "--out",
                                        str(tmp_path)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["payments"] == 1
    assert summary["held"] == {UNCONFIRMED_ACCOUNT: {"payments": 1, "amount_fen": 200_000}}
    assert text.exit_code == 0 and "held out: 1 payments" in text.output
    assert ACCOUNT.account_number not in result.output + text.output
