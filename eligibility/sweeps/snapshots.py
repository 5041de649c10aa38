"""Input snapshots of many subjects at once, built by Polars: for each subject the canonical JSON
``{"<dataset>": [row, ...], ...}`` of the base row and every related row it was evaluated on.

Canonical here means reproducible from the same data whatever the load order: keys sorted
inside each row and at the top, rows of a dataset sorted by their own JSON text, datasets without
rows left out. A decision stores this text and its SHA-256 (``inputs`` / ``inputs_hash``); the
row-by-row equivalent for other backends is ``EvaluationBackend.snapshot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

KEY = "subject_key"
OWNER = "__owner"  # a name no dataset uses, so joins never rename a dataset column


def _row_json(frame: pl.DataFrame) -> pl.Expr:
    return pl.struct(sorted(frame.columns)).struct.json_encode()


def _dataset_piece(owned: pl.DataFrame, dataset: str) -> pl.DataFrame:
    """``owned`` (owner key, row JSON) → one ``"dataset":[...]`` text per owner."""
    prefix = pl.lit(f'"{dataset}":[')
    return (
        owned.unique()
        .sort([KEY, "row"])
        .group_by(KEY, maintain_order=True)
        .agg(pl.col("row").str.join(","))
        .select(KEY, pl.concat_str([prefix, pl.col("row"), pl.lit("]")]).alias(dataset))
    )


def snapshot_texts(data: Any, subject_keys: Sequence[str]) -> pl.DataFrame:
    """``subject_key`` and ``inputs`` (canonical JSON) for each of ``subject_keys`` present in
    ``data`` (an ``eligibility.frames.SubjectData``)."""
    view = data.view
    wanted = pl.Series(KEY, list(subject_keys), dtype=pl.String)
    base = data.base.filter(pl.col(view.key).is_in(wanted.implode()))
    pieces: dict[str, pl.DataFrame] = {}
    owned = base.select(pl.col(view.key).alias(KEY), _row_json(base).alias("row"))
    pieces[view.base] = owned
    for relation in view.relations.values():
        related = data.frame(relation.dataset)
        if related.is_empty():
            continue
        owners = base.select(
            pl.col(view.key).alias(OWNER), pl.col(relation.subject_column).alias("__on")
        )
        owners = owners.filter(pl.col("__on").is_not_null())
        for column in relation.related_columns:
            joined = owners.join(related, left_on="__on", right_on=column).with_columns(
                pl.col("__on").alias(column)
            )
            joined = joined.select(pl.col(OWNER).alias(KEY), _row_json(related).alias("row"))
            previous = pieces.get(relation.dataset)
            pieces[relation.dataset] = joined if previous is None else pl.concat([previous, joined])
    result = wanted.unique().to_frame()
    for dataset in sorted(pieces):
        result = result.join(_dataset_piece(pieces[dataset], dataset), on=KEY, how="left")
    parts = [pl.col(dataset) for dataset in sorted(pieces)]
    body = pl.concat_str(parts, separator=",", ignore_nulls=True) if parts else pl.lit("")
    return result.select(KEY, pl.concat_str([pl.lit("{"), body.fill_null(""), pl.lit("}")])
                         .alias("inputs"))
