"""Writing decisions in bulk: one row per changed outcome with its provenance (policy version,
parameter values, input snapshot and its SHA-256, engine version, the condition values that
explain it), built as one Polars frame and streamed to the database; the previous current
decision of each subject is superseded. Which outcomes changed is decided in ``service``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from eligibility.grants import repository as repo
from eligibility.grants.bulk import allocate_ids, copy_frame, utcnow
from eligibility.grants.context import SweepContext
from eligibility.sweeps.backend import RESULT_COLUMNS, EvaluationBackend, PolicySpec

KEY = "subject_key"


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def sha256_hex(texts: Sequence[str]) -> list[str]:
    return [hashlib.sha256(text.encode()).hexdigest() for text in texts]


def input_snapshots(backend: EvaluationBackend, frames: Any, keys: list[str]) -> pl.DataFrame:
    """``subject_key``, ``inputs`` (canonical JSON) and ``inputs_hash`` of each subject: built by
    Polars when the backend offers ``snapshot_texts``, else row by row from ``snapshot``."""
    texts = getattr(backend, "snapshot_texts", None)
    if texts is not None:
        frame: pl.DataFrame = texts(frames, keys)
    else:
        found = backend.snapshot(frames, keys)
        frame = pl.DataFrame(
            {KEY: keys, "inputs": [canonical(found.get(key, {})) for key in keys]},
            schema={KEY: pl.String, "inputs": pl.String},
        )
    return frame.with_columns(
        pl.Series("inputs_hash", sha256_hex(frame["inputs"].to_list()), dtype=pl.String)
    )


def flag_texts(flags: dict[str, list[str]]) -> pl.DataFrame:
    """``subject_key`` and ``flags`` (comma-separated review flags) of the flagged subjects."""
    return pl.DataFrame(
        {KEY: list(flags), "flags": [",".join(found) for found in flags.values()]},
        schema={KEY: pl.String, "flags": pl.String},
    )


def explanations(changed: pl.DataFrame) -> pl.Series:
    """The condition values of each row as canonical JSON (the explanation's raw material)."""
    bookkeeping = {*RESULT_COLUMNS, "decision_id", "seq"}
    conditions = sorted(
        c for c in changed.columns if c not in bookkeeping and not c.startswith("cur_")
    )
    if not conditions:
        return pl.Series("explanation", ["{}"] * changed.height, dtype=pl.String)
    return changed.select(
        pl.struct(conditions).struct.json_encode().alias("explanation")
    ).to_series()


def write_decisions(
    ctx: SweepContext, policy: PolicySpec, frames: Any, changed: pl.DataFrame,
    flags: dict[str, list[str]],
) -> pl.DataFrame:
    """Write a decision for every row of ``changed``; returns ``subject_key``, ``decision_id``."""
    connection = ctx.connection
    keys = changed[KEY].to_list()
    superseded = changed["decision_id"].drop_nulls().to_list()
    repo.supersede(connection, superseded)
    ids = allocate_ids(connection, repo.DECISION, changed.height)
    explanation = explanations(changed)
    frame = (
        changed.select(*RESULT_COLUMNS, "seq")
        .with_columns(
            pl.Series("id", ids, dtype=pl.Int64),
            explanation,
            pl.Series("explanation_hash", sha256_hex(explanation.to_list()), dtype=pl.String),
        )
        .join(input_snapshots(ctx.backend, frames, keys), on=KEY, how="left")
        .join(flag_texts(flags), on=KEY, how="left")
    )
    frame = frame.select(
        "id",
        pl.lit(policy.id).alias("policy_id"),
        pl.lit(policy.version).alias("policy_version"),
        pl.lit(policy.subject_kind).alias("subject_kind"),
        KEY,
        (pl.col("seq").fill_null(0) + 1).alias("seq"),
        pl.lit(True).alias("is_current"),
        pl.lit(ctx.as_of).alias("as_of"),
        pl.col("eligible").cast(pl.Boolean),
        pl.col("tier").cast(pl.String),
        pl.col("amount_fen").cast(pl.Int64),
        pl.col("flags").fill_null(""),
        pl.lit(canonical(policy.parameters_at(ctx.as_of))).alias("parameters"),
        "inputs_hash",
        pl.col("inputs").fill_null("{}"),
        "explanation",
        pl.lit(ctx.engine_version).alias("engine_version"),
        pl.lit(ctx.sweep_id, dtype=pl.Int64).alias("sweep_id"),
        pl.lit(utcnow()).alias("created_at"),
        "explanation_hash",
    )
    copy_frame(connection, repo.DECISION, frame.drop("explanation_hash"))
    ctx.audit.add_decisions(frame)
    return frame.select(KEY, pl.col("id").alias("decision_id"))
