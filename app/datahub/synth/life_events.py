"""Records departments keep about residents, one chunk at a time: death records from several
sources, disability certificates, social assistance (低保 / 特困 / 低收入), 户籍 moves, and the
longevity allowance legacy systems already paid.

Datasets that must reference a registry row (catalog ``ref``) skip people whose registry row is
deliberately dirty, so that every quarantined row at import is one the manifest lists. Family
events are in ``families``; the people themselves in ``people``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from app.datahub.catalog import (
    DEATH_RECORD,
    DISABILITY_CERTIFICATE,
    HUKOU_MOVE,
    LEGACY_BENEFIT_CODES,
    LEGACY_PAYMENT,
    SOCIAL_ASSISTANCE,
    Department,
)
from app.datahub.synth import places
from app.datahub.synth.context import CityContext
from app.datahub.synth.dates import (
    DAYS_PER_YEAR,
    NO_DAY,
    Ints,
    add_years,
    month_number,
    month_start,
    period_series,
    ymd,
)
from app.datahub.synth.ids import phantom_id_numbers
from app.datahub.synth.people import ACTIVE, DECEASED, MOVED_OUT, PersonChunk
from app.datahub.synth.writer import dataset_frame

Bools = npt.NDArray[np.bool_]

DEATH_SOURCES = DEATH_RECORD.field("source_kind").values
DEATH_SOURCE_DEPARTMENTS = tuple({
    "hospital": Department.HEALTH, "police": Department.PUBLIC_SECURITY,
    "funeral_home": Department.CIVIL_AFFAIRS,
}[source] for source in DEATH_SOURCES)
DEATH_SOURCE_WEIGHTS = np.array([{"hospital": 0.5, "police": 0.3, "funeral_home": 0.2}[s]
                                 for s in DEATH_SOURCES])
DISABILITY_TYPES = DISABILITY_CERTIFICATE.field("disability_type").values
DISABILITY_TYPE_SHARES = {"physical": 0.29, "hearing": 0.24, "multiple": 0.17, "visual": 0.14,
                          "mental": 0.07, "intellectual": 0.07, "speech": 0.02}  # 2006 survey
DISABILITY_TYPE_WEIGHTS = np.array([DISABILITY_TYPE_SHARES[t] for t in DISABILITY_TYPES])
ASSISTANCE_KINDS = SOCIAL_ASSISTANCE.field("assistance_kind").values
DIBAO, TEKUN, LOW_INCOME = (ASSISTANCE_KINDS.index(k) for k in ("dibao", "tekun", "low_income"))
LONGEVITY_BENEFIT = "longevity_allowance"  # the legacy code (catalog.LEGACY_BENEFIT_CODES)
assert LONGEVITY_BENEFIT in LEGACY_BENEFIT_CODES
# Monthly longevity allowance in fen by age tier 70-79 / 80-89 / 90-99 / 100+ (legacy rates).
LONGEVITY_TIERS_FEN = np.array([5_000, 10_000, 30_000, 50_000])
LEGACY_MONTHS = 12


def _explode(counts: Ints) -> tuple[Ints, Ints]:
    """(owner, offset) for ``counts[i]`` consecutive rows per owner i."""
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - np.repeat(starts, counts)


def death_records(ctx: CityContext, rng: np.random.Generator, chunk: PersonChunk) -> pl.DataFrame:
    """One to three sources per death (40 % / 40 % / 20 %), plus deaths in local hospitals of
    people whose 户籍 is elsewhere (ID numbers not in the registry)."""
    dead = np.flatnonzero(chunk.death != NO_DAY)
    race = -np.log(rng.random((dead.size, 3))) / DEATH_SOURCE_WEIGHTS  # weighted order
    order = np.argsort(race, axis=1)
    count = rng.choice([1, 2, 3], dead.size, p=[0.4, 0.4, 0.2])
    owner, offset = _explode(count)
    source = order[owner, offset]
    outsiders = int(rng.binomial(dead.size, 0.03))
    outsider_death = (ctx.end - 1 - rng.integers(0, 730, outsiders)).astype(np.int32)
    outsider_birth = add_years(outsider_death, -rng.integers(40, 95, outsiders))
    ids = pl.concat([
        chunk.id_number.gather(dead[owner]),
        phantom_id_numbers(rng, outsider_birth, rng.random(outsiders) < 0.5),
    ])
    source = np.concatenate([source, np.zeros(outsiders, dtype=np.int64)])
    day = np.concatenate([chunk.death[dead[owner]], outsider_death])
    return dataset_frame(DEATH_RECORD, ctx.as_of, {
        "id_number": ids,
        "date_of_death": pl.Series(day).cast(pl.Date),
        "source_kind": pl.Series(DEATH_SOURCES).gather(source),
    }, source_dept=pl.Series([d.value for d in DEATH_SOURCE_DEPARTMENTS]).gather(source))


def draw_disabled(rng: np.random.Generator, chunk: PersonChunk, end: int) -> Bools:
    age = (end - chunk.birth) / DAYS_PER_YEAR
    prevalence = np.select([age < 30, age < 60, age < 80], [0.011, 0.025, 0.05], 0.1)
    return rng.random(chunk.size) < prevalence


def disability_certificates(
    ctx: CityContext, rng: np.random.Generator, chunk: PersonChunk, disabled: Bools
) -> pl.DataFrame:
    """About 2.5 % of residents: type by the national survey's shares, grade 1 (most severe)
    to 4, ten-year validity from an issue date in the last twelve years (some expired)."""
    who = np.flatnonzero(disabled)
    issued = ctx.end - 1 - rng.integers(0, 12 * 365, who.size)
    issued = np.maximum(issued, chunk.birth[who] + 30).astype(np.int32)
    open_ended = rng.random(who.size) < 0.15
    expires = add_years(issued, 10)
    return dataset_frame(DISABILITY_CERTIFICATE, ctx.as_of, {
        "id_number": chunk.id_number.gather(who),
        "disability_type": pl.Series(DISABILITY_TYPES).gather(
            rng.choice(len(DISABILITY_TYPES), who.size, p=DISABILITY_TYPE_WEIGHTS)),
        "grade": rng.choice([1, 2, 3, 4], who.size, p=[0.15, 0.25, 0.3, 0.3]),
        "valid_from": pl.Series(issued).cast(pl.Date),
        "valid_to": pl.select(pl.when(~pl.Series(open_ended)).then(
            pl.Series(expires).cast(pl.Date))).to_series(),
    })


def social_assistance(
    ctx: CityContext, rng: np.random.Generator, chunk: PersonChunk, disabled: Bools,
    eligible: Bools,
) -> pl.DataFrame:
    """低保 (~1.5 %, likelier for the disabled and old), 特困 (~0.3 %, the old and disabled
    living alone) and 低收入 (~1 %); households of one to three share an ID and start date;
    a fifth of the spells have ended."""
    end = ctx.end
    age = (end - chunk.birth) / DAYS_PER_YEAR
    base = eligible & (chunk.status == ACTIVE) & chunk.alive
    dibao_p = 0.0125 * np.where(disabled, 4.0, 1.0) * np.where(age >= 60, 1.4, 1.0)
    tekun_p = np.where((age >= 60) | disabled, 0.0125, 0.0005)
    draw = rng.random(chunk.size)
    kind = np.select(
        [draw < tekun_p, draw < tekun_p + dibao_p, draw < tekun_p + dibao_p + 0.01],
        [TEKUN, DIBAO, LOW_INCOME], -1,
    )
    kind[~base] = -1
    who = np.flatnonzero(kind >= 0)
    who = who[np.lexsort((who, chunk.hukou[who], kind[who]))]
    # Consecutive people of one kind and district form households (mean size 1.8); 特困 is 1.
    same_run = np.r_[False, (kind[who][1:] == kind[who][:-1])
                     & (chunk.hukou[who][1:] == chunk.hukou[who][:-1])]
    joins = same_run & (kind[who] != TEKUN) & (rng.random(who.size) < 0.45)
    household = np.cumsum(~joins) - 1
    household_serial = ctx.take("household", int(household.max()) + 1 if who.size else 0)
    start = end - 30 - rng.integers(0, 8 * 365, household_serial.size)
    ended = (rng.random(household_serial.size) < 0.2) & (start < end - 120)
    stop = start + 90 + (rng.random(household_serial.size) * (end - 91 - start)).astype(np.int64)
    first = start[household].astype(np.int32)
    district = pl.Series(places.HUKOU_DISTRICTS).gather(chunk.hukou[who])
    number = pl.Series(household_serial[household]).cast(pl.String).str.zfill(8)
    return dataset_frame(SOCIAL_ASSISTANCE, ctx.as_of, {
        "id_number": chunk.id_number.gather(who),
        "assistance_kind": pl.Series(ASSISTANCE_KINDS).gather(kind[who]),
        "household_id": pl.select(pl.concat_str([pl.lit("HH"), district, number])).to_series(),
        "start_date": pl.Series(np.maximum(first, chunk.birth[who])).cast(pl.Date),
        "end_date": pl.select(pl.when(pl.Series(ended[household])).then(
            pl.Series(stop[household].astype(np.int32)).cast(pl.Date))).to_series(),
    })


def hukou_moves(ctx: CityContext, chunk: PersonChunk, eligible: Bools) -> pl.DataFrame:
    """Moves out of the city (status moved_out), transfers between districts (an out and an in
    record) and arrivals from elsewhere."""
    out_day = chunk.move_out_day != NO_DAY
    in_day = chunk.move_in_day != NO_DAY
    leaves = np.flatnonzero(out_day & ~in_day & (chunk.status == MOVED_OUT) & eligible)
    transfers = np.flatnonzero(out_day & in_day & eligible)
    arrives = np.flatnonzero(~out_day & in_day & eligible)
    homes = pl.Series(places.HOMES)
    district = pl.Series(places.HUKOU_DISTRICTS)
    who = np.concatenate([leaves, transfers, transfers, arrives])
    direction = ["out"] * (leaves.size + transfers.size) + ["in"] * (transfers.size + arrives.size)
    from_region = pl.concat([
        district.gather(chunk.hukou[leaves]), homes.gather(chunk.move_in_from[transfers]),
        homes.gather(chunk.move_in_from[transfers]), homes.gather(chunk.move_in_from[arrives]),
    ])
    to_region = pl.concat([
        homes.gather(chunk.move_out_to[leaves]), district.gather(chunk.hukou[transfers]),
        district.gather(chunk.hukou[transfers]), district.gather(chunk.hukou[arrives]),
    ])
    day = np.concatenate([
        chunk.move_out_day[leaves], chunk.move_out_day[transfers], chunk.move_in_day[transfers],
        chunk.move_in_day[arrives],
    ])
    year, _, _ = ymd(day)
    serial = pl.Series(ctx.take("hukou_move", who.size)).cast(pl.String).str.zfill(8)
    return dataset_frame(HUKOU_MOVE, ctx.as_of, {
        "move_no": pl.select(pl.concat_str([
            pl.lit("QY"), pl.Series(year).cast(pl.String), serial])).to_series(),
        "id_number": chunk.id_number.gather(who),
        "direction": direction,
        "move_date": pl.Series(day).cast(pl.Date),
        "from_region": from_region,
        "to_region": to_region,
    })


def legacy_payments(
    ctx: CityContext, rng: np.random.Generator, chunk: PersonChunk, eligible: Bools
) -> pl.DataFrame:
    """Longevity allowance paid by the legacy system to 40 % of Chancheng residents aged 70+
    (and to half of the cohort who died after turning 70/80) for the last twelve months, from
    the month after the 70th birthday. Payments stop at a death the registry knows of and run
    on past one it does not (overpayments to recover)."""
    end_month = int(month_number(ctx.end))
    seventy = add_years(chunk.birth, 70)
    local = (chunk.hukou == 0) & np.isin(chunk.status, (ACTIVE, DECEASED)) & eligible
    paid = local & (seventy < ctx.end) & (rng.random(chunk.size) < 0.4)
    # Half of them, among both those the registry knows are dead and those it does not.
    paid |= local & chunk.died_after_milestone & (chunk.serial % 4 < 2)
    who = np.flatnonzero(paid)
    first = np.maximum(month_number(seventy[who]) + 1, end_month - LEGACY_MONTHS)
    last = np.full(who.size, end_month - 1, dtype=np.int64)
    known_dead = chunk.status[who] == DECEASED
    last[known_dead] = np.minimum(last[known_dead], month_number(chunk.death[who[known_dead]]))
    owner, offset = _explode(np.maximum(last - first + 1, 0))
    person = who[owner]
    period = first[owner] + offset
    period_start = month_start(period)
    by, bm, bd = ymd(chunk.birth[person])
    py, pm, pd = ymd(period_start)
    age = py - by - ((pm < bm) | ((pm == bm) & (pd < bd)))
    tier = np.clip((age - 70) // 10, 0, 3)
    serial = pl.Series(chunk.serial[person]).cast(pl.String).str.zfill(9)
    year_month = pl.Series(period // 12 * 100 + period % 12 + 1).cast(pl.String)
    return dataset_frame(LEGACY_PAYMENT, ctx.as_of, {
        "payment_ref": pl.select(pl.concat_str([pl.lit("LA"), year_month, serial])).to_series(),
        "id_number": chunk.id_number.gather(person),
        "benefit_code": pl.Series([LONGEVITY_BENEFIT]).gather(np.zeros(person.size, np.int64)),
        "period": period_series("period", period),
        "amount_fen": LONGEVITY_TIERS_FEN[tier],
    }, source_dept=Department.CIVIL_AFFAIRS.value)
