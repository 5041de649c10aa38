"""Importing a small synthetic city: every row its manifest lists as deliberately dirty is
quarantined with a reason, every other row loads, and importing it again is a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.datahub import repository, service
from app.datahub.catalog import DATASETS
from app.datahub.synth import generate_city
from app.db import session_scope

# The sizes tests/test_synth.py uses.
PERSONS, ENTERPRISES, SEED = 5_000, 600, 11


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic-city")
    generate_city(out, persons=PERSONS, enterprises=ENTERPRISES, seed=SEED, dirty_share=0.04)
    return out


def _manifest(city: Path) -> tuple[dict[str, int], dict[tuple[str, int], str]]:
    document = json.loads((city / "_manifest.json").read_text(encoding="utf-8"))
    dirty = {(row["dataset"], row["row_number"]): row["kind"] for row in document["dirty_rows"]}
    rows = {spec.name: _data_rows(city / f"{spec.name}.csv") for spec in DATASETS}
    return rows, dirty


def _data_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def _held(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            spec.name: [tuple(row) for row in connection.execute(
                text(f"SELECT id, updated_at, batch_id, row_hash FROM {spec.name} ORDER BY id")
            )]
            for spec in DATASETS
        }


@pytest.mark.slow
def test_synthetic_city_dirty_rows_quarantined_the_rest_loads_and_reimport_is_a_noop(
    engine: Engine, city: Path
) -> None:
    rows, dirty = _manifest(city)
    assert dirty, "the synthetic city should hold dirty rows"
    first = service.import_path(engine, city, batch_rows=2_000)
    assert first.errors == {}
    with session_scope(engine) as session:
        quarantine = repository.list_quarantine(session, limit=1_000_000)
        held = repository.summary(session)
    quarantined = {(entry.dataset, entry.row_number): entry.reason for entry in quarantine}
    missing = {key: kind for key, kind in dirty.items() if key not in quarantined}
    unexpected = {key: reason for key, reason in quarantined.items() if key not in dirty}
    assert missing == {}, "dirty rows that loaded"
    assert unexpected == {}, "clean rows that were quarantined"
    assert all(reason for reason in quarantined.values())
    for spec in DATASETS:
        dirty_here = sum(1 for name, _row in dirty if name == spec.name)
        counts = first.datasets[spec.name]
        assert (counts.loaded, counts.unchanged, counts.quarantined) == (
            rows[spec.name] - dirty_here, 0, dirty_here
        ), spec.name
        assert held[spec.name] == rows[spec.name] - dirty_here, spec.name
    assert held["quarantined"] == len(dirty)

    before = _held(engine)
    again = service.import_path(engine, city, batch_rows=2_000)
    assert again.errors == {}
    for spec in DATASETS:
        counts = again.datasets[spec.name]
        assert counts.loaded == 0 and counts.unchanged == first.datasets[spec.name].loaded
        assert counts.quarantined == first.datasets[spec.name].quarantined
    assert _held(engine) == before
    with session_scope(engine) as session:
        assert repository.summary(session) == held
