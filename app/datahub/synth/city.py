"""``generate_city``: the synthetic city, chunk by chunk, into one CSV per catalog dataset.

Each chunk of residents (100,000 by default) is generated with everything that concerns them:
family events, life events, and a proportional share of the market entities they run with
those entities' records. Only the chunk, the ID sequence counters (a fixed-size table) and the
dirty-row list (a few bytes per dirty row) are held, so memory does not grow with the city.
Output is byte-identical for the same arguments (including ``chunk_size``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from time import perf_counter

import numpy as np
import polars as pl
from rich.progress import Progress, TaskID

from app.datahub import catalog
from app.datahub.schemas import SynthReport
from app.datahub.synth import cohorts, dirty, enterprises, families, labour, life_events, people
from app.datahub.synth.context import CityContext
from app.datahub.synth.ids import SequenceAllocator
from app.datahub.synth.writer import CityWriter

REFERENCE_DATE = date(2026, 12, 1)
CHUNK_PERSONS = 100_000

ProgressCallback = Callable[[str, int, int], None]


def chunk_sizes(persons: int, chunk_size: int, first_at_least: int) -> list[int]:
    """Sizes of the person chunks; the first holds at least the milestone cohort."""
    first = min(persons, max(chunk_size, first_at_least))
    rest = persons - first
    return [first] + [min(chunk_size, rest - i) for i in range(0, rest, chunk_size)]


def generate_city(
    out_dir: Path, *, persons: int, enterprises: int, seed: int, as_of: date = REFERENCE_DATE,
    dirty_share: float = 0.02, on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_PERSONS,
) -> SynthReport:
    """Write the city to ``out_dir``. The registry holds ``persons`` people, or the milestone
    cohort (about 4,400 people) if that is more."""
    if persons < 0 or enterprises < 0 or chunk_size < 1 or not 0 <= dirty_share < 1:
        raise ValueError("persons and enterprises must be ≥ 0, chunk_size ≥ 1, dirty_share < 1")
    started = perf_counter()
    ctx = CityContext(seed=seed, as_of=as_of, dirty_share=dirty_share)
    cohort = cohorts.cohort(as_of)
    sizes = chunk_sizes(max(persons, cohort.size), chunk_size, cohort.size)
    total = sum(sizes)
    bounds = np.cumsum([0, *sizes])
    enterprise_bounds = (bounds * enterprises) // total
    allocator = SequenceAllocator(ctx.end)
    writer = CityWriter(Path(out_dir))
    for index, size in enumerate(sizes):
        _city_chunk(
            ctx, writer, allocator, index, int(bounds[index]), size,
            cohort if index == 0 else None,
            int(enterprise_bounds[index]), int(enterprise_bounds[index + 1]),
        )
        if on_progress:
            on_progress("persons", int(bounds[index + 1]), total)
            on_progress("enterprises", int(enterprise_bounds[index + 1]), enterprises)
    writer.close({
        "generator": "mianshen synthetic city",
        "seed": seed, "as_of": as_of.isoformat(), "persons": total,
        "enterprises": enterprises, "dirty_share": dirty_share, "chunk_size": chunk_size,
        "dirty_kinds": [kind.value for kind in dirty.DirtyKind],
    })
    return SynthReport(out_dir=str(out_dir), rows=dict(writer.rows),
                       dirty_rows=writer.dirty_count(), seconds=perf_counter() - started)


def _city_chunk(
    ctx: CityContext, writer: CityWriter, allocator: SequenceAllocator, index: int,
    first_person: int, size: int, cohort: cohorts.Cohort | None, first_enterprise: int,
    end_enterprise: int,
) -> None:
    def write(spec: catalog.DatasetSpec, frame: pl.DataFrame,
              protected: np.ndarray | None = None) -> np.ndarray:
        """Corrupt, write, and return which input rows are now invalid."""
        result = dirty.corrupt(ctx, ctx.rng(index, f"dirty:{spec.name}"), spec, frame, protected)
        writer.append(spec, result.frame, result.positions, result.kinds)
        return result.spoiled

    chunk = people.new_chunk(ctx.rng(index, "people"), first_person, size, ctx.as_of, cohort)
    parents = families.link_parents(ctx.rng(index, "parents"), chunk, ctx.end)
    born_locally = np.zeros(size, dtype=bool)
    born_locally[parents.child] = True
    people.assign_ids(ctx.rng(index, "ids"), chunk, allocator, born_locally)
    person_rows = people.person_frame(ctx.rng(index, "person"), chunk, ctx.as_of)
    usable = ~write(catalog.PERSON, person_rows, chunk.protected | chunk.died_after_milestone)

    rng = ctx.rng(index, "life")
    write(catalog.DEATH_RECORD, life_events.death_records(ctx, rng, chunk))
    disabled = life_events.draw_disabled(rng, chunk, ctx.end) & usable
    write(catalog.DISABILITY_CERTIFICATE,
          life_events.disability_certificates(ctx, rng, chunk, disabled))
    write(catalog.SOCIAL_ASSISTANCE,
          life_events.social_assistance(ctx, rng, chunk, disabled, usable))
    write(catalog.HUKOU_MOVE, life_events.hukou_moves(ctx, chunk, usable))
    write(catalog.LEGACY_PAYMENT, life_events.legacy_payments(ctx, rng, chunk, usable))
    for name, frame in families.family_frames(
        ctx, ctx.rng(index, "families"), chunk, parents
    ).items():
        write(catalog.dataset(name), frame)

    count = end_enterprise - first_enterprise
    if count == 0:
        return
    rng = ctx.rng(index, "enterprises")
    entities = enterprises.new_chunk(ctx, rng, first_enterprise, count, chunk, usable)
    open_for_records = ~write(
        catalog.ENTERPRISE, enterprises.enterprise_frame(ctx, rng, entities, chunk)
    )
    write(catalog.UI_CONTRIBUTION,
          labour.ui_contributions(ctx, ctx.rng(index, "labour"), entities, open_for_records))
    write(catalog.DISHONESTY_ENTRY,
          enterprises.dishonesty_entries(ctx, rng, entities, open_for_records))
    write(catalog.TAX_STATUS, enterprises.tax_statuses(ctx, rng, entities, open_for_records))


def progress_reporter(progress: Progress) -> ProgressCallback:
    """Adapt ``on_progress(stage, done, total)`` to one rich task per stage."""
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(f"synthesise {stage}", total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return report
