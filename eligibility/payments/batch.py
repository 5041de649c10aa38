"""Payment batches: the file a period's payments go to the treasury / bank in.

``create_batch`` takes every due payment of a granted (or ended) grant for periods up to the
batch period, marks it ``batched`` and writes a CSV with one line per payment, a totals line,
and a SHA-256 checksum (stored on the batch row and written next to the file). There is one
batch per period: re-running returns the same batch and rewrites the identical file; payments
that came due since wait for the next period's batch.

The file carries no personal data: the payee is the pseudonymous subject key (the treasury
resolves keys to accounts through its own secure channel; bank accounts are not in the shared
data catalog). Its bytes depend only on the batched ledger rows, which never change.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from app.errors import ValidationFailed
from eligibility.grants.bulk import utcnow, where_in
from eligibility.grants.hooks import Hook, fire
from eligibility.payments import repository as repo
from eligibility.payments.models import PaymentBatch

HEADER = ("payment_id", "grant_id", "policy_id", "payee_key", "period", "kind", "back_pay",
          "amount_fen")


def render(batch_period: str, payments: list[Any]) -> bytes:
    """The file's bytes: a function of the batched ledger rows only, so always reproducible."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for p in payments:
        writer.writerow((p.id, p.grant_id, p.policy_id, p.subject_key, p.period, p.kind,
                         int(p.back_pay), p.amount_fen))
    writer.writerow(("TOTAL", batch_period, len(payments), sum(p.amount_fen for p in payments)))
    return buffer.getvalue().encode("utf-8")


def create_batch(session: Session, period: str, out_dir: Path) -> tuple[PaymentBatch, Path]:
    """The batch of ``period`` (created on first call); its file is (re)written in ``out_dir``."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValidationFailed(f"period must be YYYY-MM, got {period!r}", "发放期格式应为YYYY-MM")
    connection = session.connection()
    batch = repo.get_batch(session, period)
    if batch is None:
        payments = repo.payable_for_batch(connection, period)
        batch = PaymentBatch(
            period=period, file_name=f"payments-{period}.csv", sha256="",
            payment_count=len(payments),
            total_fen=sum(p.amount_fen for p in payments), created_at=utcnow(),
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
    content = render(period, payments)
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
