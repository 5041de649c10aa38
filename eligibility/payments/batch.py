"""Payment batches: the file a period's payments go to the treasury / bank in.

``create_batch`` takes every due payment of a granted (or ended) grant for periods up to the
batch period, marks it ``batched`` and writes a CSV with one line per payment, a totals line,
one ``HELD`` line per reason payments were held out, and a SHA-256 checksum (stored on the batch
row and written next to the file). There is one batch per period: re-running returns the same
batch and rewrites the identical file; payments that came due since wait for the next period's
batch.

A policy that asks its beneficiary to confirm a bank account is paid to that account: the line
carries bank, holder and account number (what the treasury needs; the file is confidential,
screens and logs show the masked account only). A payment of such a grant whose account is not
confirmed is held out (it stays ``due`` and joins a later batch once confirmed), counted in the
batch's ``held_*`` totals with its reason. Other policies are paid by pseudonymous subject key
(the treasury resolves keys to accounts through its own secure channel). The file's bytes
depend only on the batched ledger rows (which never change), the confirmed accounts (one per
grant, never replaced) and the held totals stored on the batch. Batches written before accounts
were carried (``format_version`` 1) are re-rendered in their own format.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from app.errors import ValidationFailed
from eligibility.grants.bulk import utcnow, where_in
from eligibility.grants.hooks import Hook, fire
from eligibility.payments import payees
from eligibility.payments import repository as repo
from eligibility.payments.models import PaymentBatch

FILE_FORMAT = 2
HEADER = ("payment_id", "grant_id", "policy_id", "payee_key", "period", "kind", "back_pay",
          "amount_fen")
ACCOUNT_HEADER = ("bank_name", "account_holder", "account_number")


def held_totals(batch: PaymentBatch) -> dict[str, tuple[int, int]]:
    """reason -> (payments, amount_fen) held out of the batch."""
    stored = json.loads(batch.held_reasons)
    return {reason: (int(n), int(fen)) for reason, (n, fen) in stored.items()}


def render(batch: PaymentBatch, payments: list[Any],
           accounts: dict[int, payees.Account] | None = None) -> bytes:
    """The file's bytes: a function of the batch row, its ledger rows and their accounts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    with_accounts = batch.format_version >= 2
    writer.writerow(HEADER + ACCOUNT_HEADER if with_accounts else HEADER)
    for p in payments:
        line: tuple[Any, ...] = (p.id, p.grant_id, p.policy_id, p.subject_key, p.period, p.kind,
                                 int(p.back_pay), p.amount_fen)
        if with_accounts:
            account = (accounts or {}).get(p.grant_id)
            line += (account.bank_name, account.holder, account.number) if account else ("",) * 3
        writer.writerow(line)
    writer.writerow(("TOTAL", batch.period, len(payments), sum(p.amount_fen for p in payments)))
    if with_accounts:
        for reason, (count, fen) in sorted(held_totals(batch).items()):
            writer.writerow(("HELD", batch.period, reason, count, fen))
    return buffer.getvalue().encode("utf-8")


def _split(connection: Any, payable: list[Any]) -> tuple[list[Any], dict[str, list[Any]]]:
    """(payments to batch, reason -> payments held out)."""
    asking = payees.account_policies()
    needing = [p.grant_id for p in payable if p.policy_id in asking]
    confirmed = payees.confirmed_grants(connection, needing)
    batched: list[Any] = []
    held: list[Any] = []
    for p in payable:
        (held if p.policy_id in asking and p.grant_id not in confirmed else batched).append(p)
    return batched, ({payees.UNCONFIRMED_ACCOUNT: held} if held else {})


def create_batch(session: Session, period: str, out_dir: Path) -> tuple[PaymentBatch, Path]:
    """The batch of ``period`` (created on first call); its file is (re)written in ``out_dir``."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValidationFailed(f"period must be YYYY-MM, got {period!r}", "发放期格式应为YYYY-MM")
    connection = session.connection()
    batch = repo.get_batch(session, period)
    if batch is None:
        payments, held = _split(connection, repo.payable_for_batch(connection, period))
        totals = {reason: [len(rows), sum(p.amount_fen for p in rows)]
                  for reason, rows in held.items()}
        batch = PaymentBatch(
            period=period, file_name=f"payments-{period}.csv", sha256="",
            payment_count=len(payments),
            total_fen=sum(p.amount_fen for p in payments), created_at=utcnow(),
            format_version=FILE_FORMAT, held_count=sum(n for n, _ in totals.values()),
            held_fen=sum(fen for _, fen in totals.values()),
            held_reasons=json.dumps(totals, sort_keys=True),
        )
        session.add(batch)
        session.flush()
        ids = [p.id for p in payments]
        now = utcnow()
        for condition in where_in(connection, repo.PAYMENT.c.id, ids):
            connection.execute(
                update(repo.PAYMENT)
                .where(condition, repo.PAYMENT.c.status == "due")
                .values(status="batched", batch_id=batch.id, updated_at=now)
            )
        fire(session, Hook.PAYMENTS_BATCHED, ids)
    payments = repo.batch_payments(connection, batch.id or 0)
    accounts = (payees.accounts_of(connection, [p.grant_id for p in payments])
                if batch.format_version >= 2 else {})
    content = render(batch, payments, accounts)
    checksum = hashlib.sha256(content).hexdigest()
    if batch.sha256 and batch.sha256 != checksum:
        raise RuntimeError(f"batch {period} no longer matches its recorded checksum")
    batch.sha256 = checksum
    session.add(batch)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / batch.file_name
    path.write_bytes(content)
    (out_dir / f"{batch.file_name}.sha256").write_text(f"{checksum}  {batch.file_name}\n")
    session.flush()
    return batch, path
