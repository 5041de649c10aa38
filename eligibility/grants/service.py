"""From evaluation results to decisions and grant changes, in bulk.

``apply_results`` compares a policy's evaluation frame with the current decisions: only subjects
whose outcome (eligible, tier, amount) changed get a new decision, written with its provenance
(policy version, parameter values, input snapshot and its hash, engine version, the condition
values that explain it). Each changed outcome then moves the subject's grant: a new match
creates a grant (flagged ones wait in the manual review queue, others enter the policy's
process or are granted at once), a changed amount re-tiers it from the month after, and a lost
eligibility ends it (death, moved away, deregistered, status lost) or withdraws it before it
was granted. Ledger work is left to ``eligibility.payments.service`` through the context.
Decisions are written by ``decisions`` and new grants created by ``creation`` (both in bulk,
as Polars frames); amendments and closures, fewer, are handled here row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import bindparam, update

from eligibility.grants import repository as repo
from eligibility.grants.bulk import allocate_ids, insert_rows, utcnow, where_in
from eligibility.grants.context import SweepContext
from eligibility.grants.creation import create_grants
from eligibility.grants.decisions import write_decisions
from eligibility.grants.hooks import GrantChange
from eligibility.grants.lifecycle import (
    PRE_GRANT_STATES,
    EndReason,
    GrantState,
    ReviewFlag,
)
from eligibility.grants.models import ReviewItem
from eligibility.grants.periods import month_of, next_period
from eligibility.grants.probing import change_month
from eligibility.sweeps.backend import RESULT_COLUMNS, PolicySpec, Selection, StartRule

REVIEW_ITEM = ReviewItem.__table__  # type: ignore[attr-defined]


def changed_outcomes(result: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """Rows of ``result`` whose outcome differs from the current decision (a subject never
    decided counts as not eligible), with the current decision's id and seq attached."""
    joined = result.join(current, on="subject_key", how="left")
    was_eligible = pl.col("cur_eligible").fill_null(False)
    differs = (
        (pl.col("eligible") != was_eligible)
        | (pl.col("eligible") & pl.col("tier").ne_missing(pl.col("cur_tier")))
        | (pl.col("eligible") & pl.col("amount_fen").ne_missing(pl.col("cur_amount_fen")))
    )
    return joined.filter(differs)


def apply_results(
    ctx: SweepContext, policy: PolicySpec, frames: Any, result: pl.DataFrame, keys: repo.Keys
) -> int:
    """Persist the changed outcomes of one policy over the evaluated subjects; returns how many
    decisions were written."""
    result = result.with_columns(
        pl.col("tier").cast(pl.String), pl.col("amount_fen").cast(pl.Int64),
        pl.col("eligible").fill_null(False),
    )
    current = repo.current_decisions(ctx.connection, policy.id, keys)
    changed = changed_outcomes(result, current)
    if changed.is_empty():
        return 0
    flags = review_flags(ctx, policy, changed, keys)
    decisions = write_decisions(ctx, policy, frames, changed, flags)
    _move_grants(ctx, policy, changed.join(decisions, on="subject_key", suffix="_new"), flags)
    ctx.counts["decisions"] += changed.height
    return changed.height


def review_flags(
    ctx: SweepContext, policy: PolicySpec, changed: pl.DataFrame, scope: repo.Keys = None
) -> dict[str, list[str]]:
    """Reasons a newly eligible subject needs an officer before anything is granted."""
    eligible = changed.filter(pl.col("eligible"))
    keys = eligible["subject_key"].to_list()
    if not keys:
        return {}
    flags: dict[str, list[str]] = {key: [] for key in keys}
    if policy.subject_kind == "child":
        disagree, no_mobile, refusing = _flagged_guardians(ctx, eligible)
    else:
        disagree, no_mobile, refusing = _flagged_subjects(ctx, policy.subject_kind, keys, scope)
    for key in keys:
        if key in disagree:
            flags[key].append(ReviewFlag.DEPARTMENTS_DISAGREE)
        if key in no_mobile:
            flags[key].append(ReviewFlag.NO_MOBILE)
        if key in refusing:
            flags[key].append(ReviewFlag.REFUSED_AUTOMATION)
    threshold = ctx.review_threshold(policy)
    above = eligible.filter(pl.col("amount_fen") > threshold)["subject_key"].to_list()
    for key in above:
        flags[key].append(ReviewFlag.AMOUNT_ABOVE_THRESHOLD)
    return {key: sorted(found) for key, found in flags.items() if found}


def _flagged_subjects(
    ctx: SweepContext, kind: str, keys: list[str], scope: repo.Keys
) -> tuple[set[str], set[str], set[str]]:
    """Subjects whose departments disagree, without a mobile, refusing automation. A shard over
    a whole key range reads them once for the range (few rows), not once per policy for the
    keys (an array of up to the whole range)."""
    where: repo.Keys = keys
    cache_key = None
    if isinstance(scope, Selection) and scope.keys is None:
        where, cache_key = scope, ("flagged", kind, scope.key_lo, scope.key_hi)
    if cache_key is not None and cache_key in ctx.cache:
        found: tuple[set[str], set[str], set[str]] = ctx.cache[cache_key]
        return found
    connection = ctx.connection
    person = kind == "person"
    found = (
        repo.keys_with_disagreement(connection, where) if person else set(),
        repo.keys_without_mobile(connection, where) if person else set(),
        repo.keys_refusing_automation(connection, where),
    )
    if cache_key is not None:
        ctx.cache[cache_key] = found
    return found


def _flagged_guardians(
    ctx: SweepContext, eligible: pl.DataFrame
) -> tuple[set[str], set[str], set[str]]:
    """A child policy tells and asks the child's guardian (the payee): its grant is flagged
    when that guardian has no mobile or refuses automated decisions."""
    if "payee_key" not in eligible.columns:
        return set(), set(), set()
    payees = {k: p for k, p in eligible.select("subject_key", "payee_key").iter_rows() if p}
    guardians = sorted(set(payees.values()))
    lacking = repo.keys_without_mobile(ctx.connection, guardians)
    refusing = repo.keys_refusing_automation(ctx.connection, guardians)
    return (set(), {k for k, p in payees.items() if p in lacking},
            {k for k, p in payees.items() if p in refusing})


def _move_grants(
    ctx: SweepContext, policy: PolicySpec, changed: pl.DataFrame, flags: dict[str, list[str]]
) -> None:
    """``changed`` carries the new decision's id as ``decision_id_new``."""
    keys = changed["subject_key"].to_list()
    open_by_key = {g.subject_key: g for g in repo.open_grants(ctx.connection, policy.id, keys)}
    has_open = pl.col("subject_key").is_in(pl.Series(list(open_by_key), dtype=pl.String).implode())
    payee = pl.col("payee_key") if "payee_key" in changed.columns else pl.lit(None)
    new = changed.filter(pl.col("eligible") & ~has_open).select(
        "subject_key", "tier", "amount_fen", pl.col("decision_id_new").alias("decision_id"),
        payee.cast(pl.String).alias("payee_key"),
    )
    create_grants(ctx, policy, new, flags)
    touched = changed.filter(has_open)
    decision_ids = dict(touched.select("subject_key", "decision_id_new").iter_rows())
    outcome = {row[0]: row for row in touched.select(RESULT_COLUMNS).iter_rows()}
    amended = [k for k in outcome if outcome[k][1]]
    lost = [k for k in outcome if not outcome[k][1]]
    if amended:
        _amend_grants(ctx, policy, [(open_by_key[k], outcome[k]) for k in amended], decision_ids)
    if lost:
        close_grants(ctx, policy, [open_by_key[k] for k in lost], decision_ids)


def _amend_grants(
    ctx: SweepContext, policy: PolicySpec, pairs: Sequence[tuple[Any, tuple[Any, ...]]],
    decision_ids: dict[str, int],
) -> None:
    connection = ctx.connection
    now = utcnow()
    retier_keys = [
        g.subject_key for g, _ in pairs
        if g.state not in PRE_GRANT_STATES and policy.recurring
    ]
    since = change_month(ctx, policy, retier_keys, {g.subject_key: o for g, o in pairs})
    for grant, (key, _, tier, amount) in pairs:
        state = GrantState(grant.state)
        from_period = grant.start_period
        if state not in PRE_GRANT_STATES and policy.recurring:
            # A new tier applies from the month after it was reached; a new amount for the same
            # tier (a dated parameter) from the month it takes effect.
            began = since.get(key, month_of(ctx.as_of))
            shift = grant.tier != tier and policy.retier_rule is StartRule.NEXT_PERIOD
            from_period = next_period(began) if shift else began
            if grant.period_kind == "year":
                from_period = from_period[:4]
        detail = f"tier {grant.tier} → {tier}, amount {grant.amount_fen} → {amount} fen"
        if from_period and state not in PRE_GRANT_STATES:
            detail += f", from {from_period}"
        connection.execute(
            update(repo.GRANT).where(repo.GRANT.c.id == grant.id).values(
                amount_fen=amount, tier=tier, decision_id=decision_ids[key], updated_at=now
            )
        )
        if policy.pays_money and amount is not None and from_period:
            _set_schedule(ctx, grant.id, from_period, amount, tier, decision_ids[key], now)
        reason = "amount_changed" if state in PRE_GRANT_STATES else "retiered"
        insert_events(ctx, policy, [
            _event(grant, state, state, reason, detail, ctx, decision_ids[key], now)
        ])
        ctx.changes.append(GrantChange(
            grant.id, policy.id, policy.subject_kind, key, state.value, state.value, reason,
            ctx.as_of, amount, tier, grant.payee_key,
        ))
        ctx.reconcile_ids.add(grant.id)
        ctx.counts["grants_retiered"] += 1


def _set_schedule(
    ctx: SweepContext, grant_id: int, from_period: str, amount: int, tier: str | None,
    decision_id: int, now: Any,
) -> None:
    table = repo.GRANT_AMOUNT
    connection = ctx.connection
    # A later row that the new amount overtakes is dropped: the newest decision wins.
    connection.execute(
        table.delete().where(table.c.grant_id == grant_id, table.c.from_period >= from_period)
    )
    insert_rows(connection, table, [{
        "grant_id": grant_id, "from_period": from_period, "amount_fen": amount, "tier": tier,
        "decision_id": decision_id, "created_at": now,
    }])


def close_grants(
    ctx: SweepContext, policy: PolicySpec, grants: Sequence[Any], decision_ids: dict[str, int]
) -> None:
    """Grants whose subject is no longer eligible: withdrawn before granted, else ended with
    the reason and date the shared data gives (death, move, deregistration)."""
    connection = ctx.connection
    keys = [g.subject_key for g in grants]
    reasons = end_reasons(ctx, policy, keys)
    now = utcnow()
    updates, events = [], []
    for grant in grants:
        state = GrantState(grant.state)
        if state in PRE_GRANT_STATES:
            to_state, reason, end_date = GrantState.WITHDRAWN, "no_longer_eligible", ctx.as_of
        else:
            found = reasons.get(grant.subject_key, (EndReason.STATUS_LOST, ctx.as_of))
            to_state, reason, end_date = GrantState.ENDED, found[0].value, found[1]
            end_date = max(end_date, grant.start_date)
        updates.append({
            "grant_id": grant.id, "state": to_state.value, "end_date": end_date,
            "end_reason": reason, "updated_at": now,
        })
        events.append(_event(
            grant, state, to_state, reason, "", ctx, decision_ids.get(grant.subject_key), now,
            effective=end_date,
        ))
        ctx.changes.append(GrantChange(
            grant.id, policy.id, policy.subject_kind, grant.subject_key, state.value,
            to_state.value, reason, end_date, grant.amount_fen, grant.tier, grant.payee_key,
        ))
        ctx.reconcile_ids.add(grant.id)
        ctx.counts[f"grants_{to_state.value}"] += 1
    connection.execute(
        update(repo.GRANT).where(repo.GRANT.c.id == bindparam("grant_id")).values(
            state=bindparam("state"), is_open=False, end_date=bindparam("end_date"),
            end_reason=bindparam("end_reason"), updated_at=bindparam("updated_at"),
        ),
        updates,
    )
    # One array parameter per 200,000 grants: an IN list would render one parameter per
    # grant, and PostgreSQL refuses more than 65,535 (a policy ending at 10M persons).
    for condition in where_in(connection, REVIEW_ITEM.c.grant_id, [u["grant_id"] for u in updates]):
        connection.execute(
            update(REVIEW_ITEM).where(condition, REVIEW_ITEM.c.status == "open")
            .values(status="void", decided_at=now, note="grant closed: no longer eligible")
        )
    insert_events(ctx, policy, events)


def end_reasons(
    ctx: SweepContext, policy: PolicySpec, keys: Sequence[str]
) -> dict[str, tuple[EndReason, date]]:
    """Why and since when subjects lost eligibility, as far as the shared data says."""
    found: dict[str, tuple[EndReason, date]] = {}
    connection = ctx.connection
    if policy.subject_kind == "enterprise":
        for key, status in repo.enterprise_statuses(connection, keys).items():
            if status in ("deregistered", "revoked"):
                found[key] = (EndReason.DEREGISTERED, ctx.as_of)
        return found
    statuses = repo.person_statuses(connection, keys)
    moves = repo.move_out_dates(connection, keys)
    for key, status in statuses.items():
        if status == "deceased":
            found[key] = (EndReason.DEATH, ctx.as_of)
        elif status in ("moved_out", "cancelled") or key in moves:
            found[key] = (EndReason.MOVED_AWAY, min(moves.get(key, ctx.as_of), ctx.as_of))
    for key, died in repo.death_dates(connection, keys).items():
        found[key] = (EndReason.DEATH, min(died, ctx.as_of))
    return found


def _event(
    grant: Any, from_state: GrantState | None, to_state: GrantState, reason: str, detail: str,
    ctx: SweepContext, decision_id: int | None, now: Any, effective: date | None = None,
) -> dict[str, Any]:
    return {
        "grant_id": grant.id, "subject_key": grant.subject_key,
        "from_state": from_state.value if from_state else None,
        "to_state": to_state.value, "reason": reason, "detail": detail,
        "effective_date": effective or ctx.as_of, "actor": ctx.actor,
        "decision_id": decision_id, "at": now,
    }


def insert_events(ctx: SweepContext, policy: PolicySpec, events: list[dict[str, Any]]) -> None:
    """Write grant events (rows from ``_event``) with allocated ids, and log them."""
    if not events:
        return
    ids = allocate_ids(ctx.connection, repo.GRANT_EVENT, len(events))
    rows = [
        {**event, "id": ident, "policy_id": policy.id}
        for ident, event in zip(ids, events, strict=True)
    ]
    insert_rows(ctx.connection, repo.GRANT_EVENT, [
        {column.name: row[column.name] for column in repo.GRANT_EVENT.columns} for row in rows
    ])
    ctx.audit.add_event_rows(rows)
