"""Finding when something began, for subjects whose data arrived late: the policy is evaluated
again, restricted to those subjects, at the end of each earlier month (back to the back-pay
floor) with the same backend and policy version. Used for back-pay (since when was a new
beneficiary eligible?) and late re-tiering (since when does the new tier hold?)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from eligibility.grants.context import SweepContext
from eligibility.grants.periods import last_day, month_of, previous_period
from eligibility.sweeps.backend import PolicySpec, Selection


def _months_to_probe(ctx: SweepContext, policy: PolicySpec) -> list[str]:
    """Months before the current one whose last day is on or after the back-pay floor, newest
    first."""
    floor = ctx.backpay_floor(policy)
    months: list[str] = []
    month = previous_period(month_of(ctx.as_of))
    while last_day(month) >= floor:
        months.append(month)
        month = previous_period(month)
    return months


def _walk_back(
    ctx: SweepContext, policy: PolicySpec, keys: Sequence[str], holds: Any
) -> dict[str, str]:
    """For each key, the earliest month of the unbroken run of months (ending last month) whose
    month-end evaluation satisfies ``holds`` (a Polars expression over the result frame)."""
    months = _months_to_probe(ctx, policy)
    if not keys or not months:
        return {}
    frames = ctx.backend.load(ctx.connection, policy.subject_kind, Selection(keys=tuple(keys)))
    since: dict[str, str] = {}
    candidates = set(keys)
    for month in months:
        result = ctx.backend.evaluate(policy, frames, last_day(month))
        passing = set(
            result.filter(pl.col("subject_key").is_in(list(candidates)) & holds)["subject_key"]
            .to_list()
        )
        for key in passing:
            since[key] = month
        candidates = passing
        ctx.counts["probe_evaluations"] += 1
        if not candidates:
            break
    return since


def eligible_since(ctx: SweepContext, policy: PolicySpec, keys: Sequence[str]) -> dict[str, str]:
    """Month from which each newly eligible subject had already been eligible (absent: this
    month)."""
    return _walk_back(ctx, policy, keys, pl.col("eligible").fill_null(False))


def change_month(
    ctx: SweepContext, policy: PolicySpec, keys: Sequence[str],
    outcomes: Mapping[str, tuple[Any, ...]],
) -> dict[str, str]:
    """Month in which each subject's new tier and amount first held (absent: this month)."""
    if not keys:
        return {}
    wanted = pl.DataFrame(
        [(k, outcomes[k][2], outcomes[k][3]) for k in keys],
        schema={"subject_key": pl.String, "want_tier": pl.String, "want_amount": pl.Int64},
        orient="row",
    )
    months = _months_to_probe(ctx, policy)
    if not months:
        return {}
    frames = ctx.backend.load(ctx.connection, policy.subject_kind, Selection(keys=tuple(keys)))
    since: dict[str, str] = {}
    candidates = set(keys)
    for month in months:
        result = ctx.backend.evaluate(policy, frames, last_day(month)).join(
            wanted, on="subject_key"
        )
        same = result.filter(
            pl.col("subject_key").is_in(list(candidates))
            & pl.col("eligible").fill_null(False)
            & pl.col("tier").cast(pl.String).eq_missing(pl.col("want_tier"))
            & pl.col("amount_fen").cast(pl.Int64).eq_missing(pl.col("want_amount"))
        )
        candidates = set(same["subject_key"].to_list())
        for key in candidates:
            since[key] = month
        if not candidates:
            break
    return since
