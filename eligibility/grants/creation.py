"""New matches become grants, in bulk: a grant row, its ``matched`` event, its first amount and,
when flagged or reviewed internally, a review item per newly eligible subject.

Where a grant starts depends only on its review flags (manual review, else the policy's first
process step) and on the month eligibility began (back-pay), and a sweep sees few distinct
combinations of those; each combination is worked out once in Python and joined onto the frame
of new grants, which Polars turns into rows for ``COPY``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from eligibility.grants import repository as repo
from eligibility.grants.bulk import allocate_ids, copy_frame, utcnow
from eligibility.grants.context import SweepContext
from eligibility.grants.decisions import flag_texts
from eligibility.grants.hooks import GrantChange, Hook, has_hooks
from eligibility.grants.lifecycle import GrantState, encode_steps, initial_state
from eligibility.grants.models import ReviewItem
from eligibility.grants.periods import month_of, next_period
from eligibility.grants.probing import eligible_since
from eligibility.grants.workdays import add_working_days
from eligibility.sweeps.backend import PolicySpec, ProcessStep, StartRule

REVIEW_ITEM = ReviewItem.__table__  # type: ignore[attr-defined]
KEY = "subject_key"
COMBINATION_SCHEMA = {
    "flags": pl.String, "eligible_month": pl.String, "state": pl.String,
    "process_steps": pl.String, "start_period": pl.String, "start_date": pl.Date,
    "notice_started_on": pl.Date, "notice_ends_on": pl.Date, "detail": pl.String,
    "review_kind": pl.String,
}


def _first_of(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def _combination(
    ctx: SweepContext, policy: PolicySpec, flags: str, eligible_month: str
) -> dict[str, Any]:
    key_flags = [flag for flag in flags.split(",") if flag]
    state, remaining = initial_state(key_flags, policy.process)
    start_period = eligible_month if policy.period_kind != "year" else eligible_month[:4]
    if policy.start_rule is StartRule.NEXT_PERIOD:
        start_period = next_period(start_period)
    current = month_of(ctx.as_of)
    notice_end = (
        add_working_days(ctx.as_of, policy.notice_working_days)
        if state is GrantState.PUBLIC_NOTICE else None
    )
    detail = f"flags: {', '.join(key_flags)}" if key_flags else (
        "auto-grant" if state is GrantState.GRANTED else f"process: {state.value}"
    )
    review_kind = {GrantState.MANUAL_REVIEW: "flagged", GrantState.INTERNAL_REVIEW: "internal"}
    return {
        "flags": flags, "eligible_month": eligible_month, "state": state.value,
        "process_steps": encode_steps(remaining),
        "start_period": start_period if policy.pays_money else None,
        "start_date": ctx.as_of if eligible_month == current else _first_of(eligible_month),
        "notice_started_on": ctx.as_of if notice_end else None, "notice_ends_on": notice_end,
        "detail": detail, "review_kind": review_kind.get(state),
    }


def create_grants(
    ctx: SweepContext, policy: PolicySpec, new: pl.DataFrame, flags: dict[str, list[str]]
) -> None:
    """Grants for ``new`` (``subject_key``, ``tier``, ``amount_fen``, ``decision_id`` and, for a
    child policy, ``payee_key``): subjects newly eligible with no open grant of the policy."""
    if new.is_empty():
        return
    connection = ctx.connection
    keys = new[KEY].to_list()
    current = month_of(ctx.as_of)
    since = eligible_since(ctx, policy, keys) if policy.recurring else {}
    episodes = repo.last_episodes(connection, policy.id, keys)
    frame = new.with_columns(
        pl.Series("id", allocate_ids(connection, repo.GRANT, new.height), dtype=pl.Int64),
        pl.col(KEY).replace_strict(since, default=current, return_dtype=pl.String)
        .alias("eligible_month") if since else pl.lit(current).alias("eligible_month"),
        (pl.col(KEY).replace_strict(episodes, default=0, return_dtype=pl.Int64) + 1)
        .alias("episode") if episodes else pl.lit(1, dtype=pl.Int64).alias("episode"),
    )
    frame = frame.join(flag_texts(flags), on=KEY, how="left")
    frame = frame.with_columns(pl.col("flags").fill_null(""))
    combinations = pl.DataFrame(
        [_combination(ctx, policy, f, m)
         for f, m in frame.select("flags", "eligible_month").unique().iter_rows()],
        schema=COMBINATION_SCHEMA, orient="row",
    )
    frame = frame.join(combinations, on=["flags", "eligible_month"], how="left")
    now = utcnow()
    noticed = ProcessStep.PUBLIC_NOTICE in policy.process
    notice_days = policy.notice_working_days if noticed else None
    grants = frame.select(
        "id", pl.lit(policy.id).alias("policy_id"), pl.lit(policy.version).alias("policy_version"),
        pl.lit(policy.subject_kind).alias("subject_kind"), KEY,
        (pl.col("payee_key") if "payee_key" in frame.columns else pl.lit(None))
        .cast(pl.String).alias("payee_key"), "episode", "state",
        pl.lit(True).alias("is_open"), pl.lit(policy.benefit_kind.value).alias("benefit_kind"),
        pl.lit(policy.legacy_benefit_code or policy.id).alias("benefit_code"),
        pl.lit(policy.period_kind if policy.pays_money else "none").alias("period_kind"),
        pl.col("amount_fen").cast(pl.Int64), pl.col("tier").cast(pl.String), "decision_id",
        "start_period", "start_date", "process_steps", "notice_started_on", "notice_ends_on",
        pl.lit(notice_days, dtype=pl.Int64).alias("notice_remaining_days"),
        pl.col("flags").alias("review_flags"), pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    )
    copy_frame(connection, repo.GRANT, grants)
    events = frame.select(
        pl.Series("id", allocate_ids(connection, repo.GRANT_EVENT, frame.height), dtype=pl.Int64),
        pl.col("id").alias("grant_id"), pl.lit(None, dtype=pl.String).alias("from_state"),
        pl.col("state").alias("to_state"), pl.lit("matched").alias("reason"), "detail",
        pl.lit(ctx.as_of).alias("effective_date"), pl.lit(ctx.actor).alias("actor"),
        "decision_id", pl.lit(now).alias("at"),
    )
    copy_frame(connection, repo.GRANT_EVENT, events)
    ctx.audit.add_events(events.with_columns(
        pl.lit(policy.id).alias("policy_id"), frame[KEY],
    ))
    if policy.pays_money:
        copy_frame(connection, repo.GRANT_AMOUNT, frame.filter(pl.col("amount_fen").is_not_null())
                   .select(pl.col("id").alias("grant_id"),
                           pl.col("start_period").alias("from_period"),
                           pl.col("amount_fen").cast(pl.Int64), pl.col("tier").cast(pl.String),
                           "decision_id", pl.lit(now).alias("created_at")))
    copy_frame(connection, REVIEW_ITEM, frame.filter(pl.col("review_kind").is_not_null()).select(
        pl.col("id").alias("grant_id"), pl.col("review_kind").alias("kind"),
        pl.col("flags").alias("reasons"), pl.lit("open").alias("status"),
        pl.lit(now).alias("created_at"),
    ))
    if has_hooks(Hook.GRANT_CHANGED):
        ctx.changes.extend(
            GrantChange(grant_id, policy.id, policy.subject_kind, key, None, state, "matched",
                        ctx.as_of, amount, tier, payee)
            for grant_id, key, state, amount, tier, payee in grants.select(
                "id", KEY, "state", "amount_fen", "tier", "payee_key").iter_rows()
        )
    if policy.pays_money:
        granted = frame.filter(pl.col("state") == GrantState.GRANTED.value)
        ctx.reconcile_ids.update(granted["id"].to_list())
    ctx.counts["grants_created"] += frame.height
