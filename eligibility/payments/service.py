"""The payments ledger: what each grant is owed per period, reconciled with what was written.

``reconcile`` computes the expected ledger of a grant (every period from its start period to the
current one, or to its end date's period; none while suspended) at the amounts of its schedule,
and brings the ledger in line: missing periods are added (``back_pay`` when the period is already
past; ``legacy`` when a legacy system paid it), unbatched rows are corrected or cancelled, and
for money already paid, an increase becomes a ``top_up`` and a decrease or a period after the
end date becomes a recovery item. Routine runs only extend a grant past ``paid_through`` (the
last period its ledger covers); grants whose facts changed get the full comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, update

from eligibility.grants import repository as grants_repo
from eligibility.grants.bulk import allocate_ids, insert_rows, utcnow, where_in
from eligibility.grants.context import SweepContext
from eligibility.grants.lifecycle import GrantState
from eligibility.grants.periods import month_of, period_of, periods_between, previous_period
from eligibility.payments import repository as repo
from eligibility.sweeps.backend import Selection

PAID = ("batched", "legacy")


def _amount_for(schedule: Sequence[Any], period: str, fallback: int | None) -> int:
    amount = fallback or 0
    for row in schedule:  # sorted by from_period
        if row.from_period[: len(period)] <= period:
            amount = row.amount_fen
    return int(amount)


def expected_periods(grant: Any, as_of_month: str) -> list[str]:
    """Periods the grant is owed as of ``as_of_month``, whatever was written so far."""
    if grant.period_kind == "none" or not grant.start_period:
        return []
    if grant.state not in (GrantState.GRANTED, GrantState.SUSPENDED, GrantState.ENDED):
        return []
    kind = grant.period_kind
    if kind == "once":
        end_ok = grant.end_date is None or month_of(grant.end_date) >= grant.start_period
        return [grant.start_period] if grant.start_period <= as_of_month and end_ok else []
    last = as_of_month[:4] if kind == "year" else as_of_month
    if grant.end_date is not None:
        last = min(last, period_of(grant.end_date, kind))
    if grant.state == GrantState.SUSPENDED:
        last = min(last, grant.paid_through or previous_period(grant.start_period))
    return periods_between(grant.start_period, last)


def reconcile(ctx: SweepContext, grants: Sequence[Any], full: bool) -> None:
    if not grants:
        return
    connection = ctx.connection
    as_of_month = month_of(ctx.as_of)
    ids = [g.id for g in grants]
    schedules = grants_repo.amount_schedules(connection, ids)
    existing = repo.payments_of(connection, ids) if full else {}
    legacy: dict[tuple[str, str], tuple[str, int]] = {}
    by_code: dict[str, list[str]] = {}
    for grant in grants:
        by_code.setdefault(grant.benefit_code, []).append(grant.subject_key)
    for code, keys in by_code.items():
        for (key, period), value in repo.legacy_payments(connection, code, keys).items():
            legacy[(f"{code}|{key}", period)] = value
    now = utcnow()
    ledger = _LedgerWriter(ctx, now)
    paid_through: list[dict[str, Any]] = []
    for grant in grants:
        code = grant.benefit_code
        periods = expected_periods(grant, as_of_month)
        if not full:
            periods = [p for p in periods if grant.paid_through is None or p > grant.paid_through]
        schedule = schedules.get(grant.id, [])
        rows = existing.get(grant.id, [])
        regular = {r.period: r for r in rows if r.kind == "regular"}
        top_ups = {r.period: r for r in rows if r.kind == "top_up"}
        current = as_of_month[:4] if grant.period_kind == "year" else as_of_month
        for period in periods:
            amount = _amount_for(schedule, period, grant.amount_fen)
            if period in regular:
                ledger.compare(grant, regular[period], top_ups.get(period), amount)
                continue
            paid_before = _legacy_for(legacy, code, grant.subject_key, period)
            ledger.add(grant, period, amount, back_pay=period < current, legacy=paid_before)
        wanted = set(periods) if full else None
        if wanted is not None:
            for row in rows:
                if row.period not in wanted:
                    ledger.withdraw(grant, row)
        if periods and (grant.paid_through is None or periods[-1] > grant.paid_through):
            paid_through.append({"grant_id": grant.id, "paid_through": periods[-1]})
    ledger.flush()
    if paid_through:
        connection.execute(
            update(grants_repo.GRANT).where(grants_repo.GRANT.c.id == bindparam("grant_id"))
            .values(paid_through=bindparam("paid_through")),
            paid_through,
        )


def _legacy_for(
    legacy: Mapping[tuple[str, str], tuple[str, int]], code: str, key: str, period: str
) -> tuple[str, int] | None:
    if len(period) == 4:  # a yearly benefit: any legacy payment in that year covers it
        for (owner, paid_period), value in legacy.items():
            if owner == f"{code}|{key}" and paid_period.startswith(period):
                return value
        return None
    return legacy.get((f"{code}|{key}", period))


class _LedgerWriter:
    """Collects ledger changes of one reconcile and writes them in bulk."""

    def __init__(self, ctx: SweepContext, now: Any) -> None:
        self.ctx = ctx
        self.now = now
        self.new_rows: list[dict[str, Any]] = []
        self.recoveries: list[dict[str, Any]] = []
        self.amounts: list[dict[str, Any]] = []
        self.statuses: dict[str, list[int]] = {}
        self.recoverable: list[tuple[Any, Any, int, str]] = []

    def add(
        self, grant: Any, period: str, amount: int, back_pay: bool,
        legacy: tuple[str, int] | None, kind: str = "regular",
    ) -> None:
        status = "legacy" if legacy else ("held" if grant.state == GrantState.SUSPENDED else "due")
        self.new_rows.append({
            "grant_id": grant.id, "policy_id": grant.policy_id,
            "subject_key": grant.payee_key or grant.subject_key,  # who is paid: a guardian
            "period": period, "kind": kind, "amount_fen": legacy[1] if legacy else amount,
            "status": status, "back_pay": back_pay, "legacy_ref": legacy[0] if legacy else None,
            "batch_id": None, "created_at": self.now, "updated_at": self.now,
        })
        counter = "payments_legacy" if legacy else ("payments_back_pay" if back_pay else "payments")
        self.ctx.counts[counter] += 1

    def compare(self, grant: Any, regular: Any, top_up: Any, amount: int) -> None:
        if regular.status == "legacy":
            return
        unpaid = "held" if grant.state == GrantState.SUSPENDED else "due"
        if regular.status in ("due", "held", "cancelled"):
            if regular.amount_fen != amount or regular.status != unpaid:
                self.amounts.append({"payment_id": regular.id, "amount": amount, "status": unpaid})
            return
        paid = regular.amount_fen + (top_up.amount_fen if top_up and top_up.status in PAID else 0)
        difference = amount - paid
        if difference > 0:
            if top_up is None:
                self.add(grant, regular.period, difference, back_pay=True, legacy=None,
                         kind="top_up")
            elif top_up.status in ("due", "held", "cancelled"):
                self.amounts.append({"payment_id": top_up.id, "amount": difference,
                                     "status": unpaid})
        elif top_up is not None and top_up.status in ("due", "held"):
            self.statuses.setdefault("cancelled", []).append(top_up.id)
        if difference < 0:
            self.recoverable.append((grant, regular, -difference, "amount_reduced"))

    def withdraw(self, grant: Any, row: Any) -> None:
        """A ledger row for a period the grant is not owed (after its end, or never granted)."""
        if row.status in ("due", "held"):
            self.statuses.setdefault("cancelled", []).append(row.id)
        elif row.status == "batched":
            reason = "paid_after_end" if grant.end_date is not None else "not_due"
            self.recoverable.append((grant, row, row.amount_fen, reason))

    def flush(self) -> None:
        connection = self.ctx.connection
        audit = self.ctx.audit
        ids = allocate_ids(connection, repo.PAYMENT, len(self.new_rows))
        for ident, row in zip(ids, self.new_rows, strict=True):
            row["id"] = ident
        insert_rows(connection, repo.PAYMENT, self.new_rows)
        audit.add_payments([_logged(row, str(row["id"])) for row in self.new_rows])
        for status, payment_ids in self.statuses.items():
            repo.set_status(connection, payment_ids, status, self.now)
            self.ctx.counts[f"payments_{status}"] += len(payment_ids)
            audit.add_payments([
                _logged(row, f"{row['id']}:{status}:{row['amount_fen']}", status=status)
                for row in repo.payment_rows(connection, payment_ids)
            ])
        if self.amounts:
            connection.execute(
                update(repo.PAYMENT).where(repo.PAYMENT.c.id == bindparam("payment_id")).values(
                    amount_fen=bindparam("amount"), status=bindparam("status"),
                    updated_at=self.now,
                ),
                self.amounts,
            )
            changed = repo.payment_rows(connection, [a["payment_id"] for a in self.amounts])
            audit.add_payments([
                _logged(row, f"{row['id']}:{row['status']}:{row['amount_fen']}")
                for row in changed
            ])
        done = repo.recovered_payment_ids(connection, [r[1].id for r in self.recoverable])
        for grant, payment, amount, reason in self.recoverable:
            if payment.id in done:
                continue
            self.recoveries.append({
                "payment_id": payment.id, "grant_id": grant.id,
                "subject_key": grant.payee_key or grant.subject_key,
                "period": payment.period, "amount_fen": amount, "reason": reason,
                "status": "open", "created_at": self.now,
            })
        ids = allocate_ids(connection, repo.RECOVERY, len(self.recoveries))
        for ident, row in zip(ids, self.recoveries, strict=True):
            row["id"] = ident
        insert_rows(connection, repo.RECOVERY, self.recoveries)
        policies = {grant.id: grant.policy_id for grant, *_ in self.recoverable}
        audit.add_payments([
            {**row, "record_id": f"recovery-{row['id']}", "amount_fen": -row["amount_fen"],
             "payment_kind": "recovery", "policy_id": policies[row["grant_id"]]}
            for row in self.recoveries
        ])
        self.ctx.counts["recovery_items"] += len(self.recoveries)


def _logged(row: Mapping[str, Any], record_id: str, status: str | None = None) -> dict[str, Any]:
    """A ledger row as the audit trail logs it."""
    return {
        "record_id": record_id, "payment_id": row["id"], "grant_id": row["grant_id"],
        "policy_id": row["policy_id"], "subject_key": row["subject_key"],
        "period": row["period"], "amount_fen": row["amount_fen"],
        "payment_kind": "back_pay" if row["back_pay"] else "payment",
        "status": status or row["status"],
    }


def extend_ledgers(ctx: SweepContext, selection: Selection) -> None:
    """Routine: add the periods that came due to every granted cash grant in the key range,
    then fully reconcile the grants whose facts changed in this unit of work."""
    connection = ctx.connection
    table = grants_repo.GRANT
    current = month_of(ctx.as_of)
    behind = (table.c.period_kind != "none") & (
        table.c.paid_through.is_(None) | (table.c.paid_through < current)
    )
    routine = grants_repo.grants_in_states(connection, ["granted"], selection, behind)
    routine = [g for g in routine if g.id not in ctx.reconcile_ids]
    reconcile(ctx, routine, full=False)
    touched = sorted(ctx.reconcile_ids)
    ctx.reconcile_ids.clear()
    rows: list[Any] = []
    for condition in where_in(connection, table.c.id, touched):
        rows.extend(connection.execute(table.select().where(condition)))
    reconcile(ctx, rows, full=True)
