"""Synthetic market entities (市场主体): enterprises and individual businesses with valid USCCs,
industries, sizes, registration dates and statuses, run by residents of the same chunk; their
serious-dishonesty entries and yearly tax status.

About two thirds are individual businesses (USCC ``92…``), the rest companies (``91…``).
Headcounts are heavy-tailed; the monthly unemployment-insurance simulation is in ``labour``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from app.datahub.catalog import DISHONESTY_ENTRY, ENTERPRISE, TAX_STATUS
from app.datahub.synth import names, places
from app.datahub.synth.context import CityContext
from app.datahub.synth.dates import DAYS_PER_YEAR, Days, Ints, day_number, from_ymd, ymd
from app.datahub.synth.ids import usccs
from app.datahub.synth.people import ACTIVE, PersonChunk
from app.datahub.synth.writer import dataset_frame

Bools = npt.NDArray[np.bool_]

# Plausible GB/T 4754-2017 classes for Foshan: (code, company trade word, weight).
COMPANY_INDUSTRIES: tuple[tuple[str, str, float], ...] = (
    ("C2110", "家具制造", 0.09), ("C3071", "陶瓷", 0.07), ("C3851", "电器", 0.07),
    ("C3856", "厨具电器", 0.05), ("C3311", "金属制品", 0.07), ("C2927", "塑料制品", 0.05),
    ("F5137", "商贸", 0.14), ("F5211", "百货", 0.04), ("G5431", "物流", 0.07),
    ("I6513", "科技", 0.08), ("K7020", "物业管理", 0.05), ("E4710", "建筑工程", 0.06),
    ("H6210", "餐饮管理", 0.05), ("H6110", "酒店管理", 0.02), ("O8010", "家政服务", 0.04),
    ("M7320", "技术开发", 0.05),
)
# (code, shop word, weight) for individual businesses.
SHOP_INDUSTRIES: tuple[tuple[str, str, float], ...] = (
    ("F5213", "便利店", 0.16), ("F5212", "超市", 0.06), ("H6210", "餐馆", 0.16),
    ("H6220", "粉面店", 0.12), ("F5223", "水果店", 0.08), ("F5232", "服装店", 0.1),
    ("F5271", "五金店", 0.1), ("O8070", "理发店", 0.1), ("O8111", "汽车维修店", 0.07),
    ("F5261", "家电维修部", 0.05),
)
STATUSES = ENTERPRISE.field("status").values
ACTIVE_ENTITY, DEREGISTERED, REVOKED = (
    STATUSES.index(s) for s in ("active", "deregistered", "revoked")
)
SIZE_CLASSES = ENTERPRISE.field("size_class").values  # micro, small, medium, large
DISHONESTY_KINDS = ("严重违法失信主体名单", "失信被执行人", "重大税收违法失信主体",
                    "拖欠农民工工资失信联合惩戒对象名单")
EARLIEST_REGISTRATION = day_number(date(1993, 1, 1))
STILL_OPEN = np.int32(np.iinfo(np.int32).max)


@dataclass
class EnterpriseChunk:
    serial: Ints
    individual: Bools
    industry: Ints  # index into COMPANY_INDUSTRIES or SHOP_INDUSTRIES (by ``individual``)
    district: Ints  # index into places.HUKOU_DISTRICTS
    registered: Days
    status: Ints
    closed: Days  # day it was deregistered or revoked; STILL_OPEN when active
    legal_rep: Ints  # position in the person chunk
    insures_staff: Bools
    headcount: Ints  # insured staff 24 months before the extraction date
    uscc: pl.Series

    @property
    def size(self) -> int:
        return int(self.serial.size)


def _weights(table: tuple[tuple[str, str, float], ...]) -> npt.NDArray[np.float64]:
    w = np.array([row[2] for row in table])
    return w / w.sum()


def new_chunk(
    ctx: CityContext, rng: np.random.Generator, first_serial: int, size: int,
    people: PersonChunk, usable_people: Bools,
) -> EnterpriseChunk:
    end = ctx.end
    individual = rng.random(size) < 2 / 3
    industry = np.where(
        individual,
        rng.choice(len(SHOP_INDUSTRIES), size, p=_weights(SHOP_INDUSTRIES)),
        rng.choice(len(COMPANY_INDUSTRIES), size, p=_weights(COMPANY_INDUSTRIES)),
    )
    age_years = rng.exponential(np.where(individual, 5.0, 8.0))
    registered = np.maximum(end - 1 - (age_years * DAYS_PER_YEAR).astype(np.int64),
                            EARLIEST_REGISTRATION).astype(np.int32)
    draw = rng.random(size)
    closes = np.where(individual, 0.2, 0.12)
    status = np.select(
        [draw < closes * 0.7, draw < closes], [DEREGISTERED, REVOKED], ACTIVE_ENTITY
    )
    lifetime = np.maximum(end - 1 - registered.astype(np.int64), 1)
    closed = registered + np.minimum(180, lifetime) + (
        rng.random(size) * np.maximum(lifetime - 180, 0)).astype(np.int64)
    closed = np.where(status == ACTIVE_ENTITY, STILL_OPEN, np.minimum(closed, end - 1))
    closed = closed.astype(np.int32)
    adults = np.flatnonzero(
        usable_people & people.alive & (people.status == ACTIVE)
        & (people.birth < end - 22 * DAYS_PER_YEAR) & (people.birth > end - 70 * DAYS_PER_YEAR)
    )
    if adults.size == 0:
        raise ValueError("a chunk of people without adults cannot run enterprises")
    insures = np.where(individual, rng.random(size) < 0.08, rng.random(size) < 0.75)
    pareto = np.floor(3 * rng.random(size) ** (-1 / 1.05)).astype(np.int64)
    headcount = np.where(individual, rng.integers(1, 9, size), np.clip(pareto, 1, 20_000))
    district = places.hukou_districts(rng, size)
    year, _, _ = ymd(registered)
    serial = np.arange(first_serial, first_serial + size, dtype=np.int64)
    region = np.array([int(c) for c in places.HUKOU_DISTRICTS], dtype=np.int64)[district]
    return EnterpriseChunk(
        serial=serial, individual=individual, industry=industry, district=district,
        registered=registered, status=status, closed=closed,
        legal_rep=adults[rng.integers(0, adults.size, size)],
        insures_staff=insures, headcount=headcount,
        uscc=usccs(individual, region, serial, year >= 2015),
    )


def size_classes(chunk: EnterpriseChunk) -> Ints:
    """GB small/medium enterprise thresholds by headcount (industrial: 20 / 300 / 1000)."""
    staffed = np.where(chunk.insures_staff, chunk.headcount, 1)
    by_staff = np.searchsorted([20, 300, 1000], staffed, side="right")  # index in SIZE_CLASSES
    return np.where(chunk.individual, SIZE_CLASSES.index("micro"), by_staff)


def enterprise_frame(
    ctx: CityContext, rng: np.random.Generator, chunk: EnterpriseChunk, people: PersonChunk
) -> pl.DataFrame:
    codes = np.array([c for c, _, _ in COMPANY_INDUSTRIES] + [c for c, _, _ in SHOP_INDUSTRIES])
    words = [w for _, w, _ in COMPANY_INDUSTRIES] + [w for _, w, _ in SHOP_INDUSTRIES]
    table_index = chunk.industry + np.where(chunk.individual, len(COMPANY_INDUSTRIES), 0)
    rep_names = people.name.gather(chunk.legal_rep)
    district_names = pl.Series([places.FOSHAN_DISTRICTS[c] for c in places.HUKOU_DISTRICTS])
    return dataset_frame(ENTERPRISE, ctx.as_of, {
        "uscc": chunk.uscc,
        "name": names.enterprise_names(
            rng, district_names.gather(chunk.district), pl.Series(words).gather(table_index),
            chunk.individual, names.surnames_of(rep_names)),
        "kind": np.where(chunk.individual, "individual_business", "enterprise"),
        "industry_code": codes[table_index],
        "size_class": pl.Series(SIZE_CLASSES).gather(size_classes(chunk)),
        "region_code": pl.Series(places.HUKOU_DISTRICTS).gather(chunk.district),
        "registration_date": pl.Series(chunk.registered).cast(pl.Date),
        "status": pl.Series(STATUSES).gather(chunk.status),
        "legal_rep_name": rep_names,
        "legal_rep_id_number": people.id_number.gather(chunk.legal_rep),
    })


def dishonesty_entries(
    ctx: CityContext, rng: np.random.Generator, chunk: EnterpriseChunk, eligible: Bools
) -> pl.DataFrame:
    """About 1 % of market entities, listed in the last five years; a third since removed."""
    end = ctx.end
    who = np.flatnonzero(eligible & (rng.random(chunk.size) < 0.01))
    listed = np.maximum(end - 1 - rng.integers(0, 5 * 365, who.size), chunk.registered[who] + 30)
    listed = np.minimum(listed, end - 1).astype(np.int32)
    removed = listed + rng.integers(180, 3 * 365, who.size)
    is_removed = (rng.random(who.size) < 0.33) & (removed < end)
    serial = pl.Series(ctx.take("dishonesty", who.size)).cast(pl.String).str.zfill(8)
    return dataset_frame(DISHONESTY_ENTRY, ctx.as_of, {
        "entry_no": pl.select(pl.concat_str([pl.lit("SX"), serial])).to_series(),
        "uscc": chunk.uscc.gather(who),
        "list_kind": pl.Series(DISHONESTY_KINDS).gather(
            rng.choice(len(DISHONESTY_KINDS), who.size, p=[0.35, 0.4, 0.15, 0.1])),
        "listed_date": pl.Series(listed).cast(pl.Date),
        "removed_date": pl.select(pl.when(pl.Series(is_removed)).then(
            pl.Series(removed.astype(np.int32)).cast(pl.Date))).to_series(),
    })


def tax_statuses(
    ctx: CityContext, rng: np.random.Generator, chunk: EnterpriseChunk, eligible: Bools
) -> pl.DataFrame:
    """The last two complete years for entities open during them: revenue heavy-tailed with
    headcount (individual businesses around 200,000 yuan), arrears for about 4 %."""
    rows: list[tuple[Ints, int]] = []
    for year in (ctx.as_of.year - 2, ctx.as_of.year - 1):
        opened = chunk.registered < from_ymd(year + 1, 1, 1)
        still_open = chunk.closed >= from_ymd(year, 1, 1)
        rows.append((np.flatnonzero(eligible & opened & still_open), year))
    who = np.concatenate([r for r, _ in rows])
    year_column = np.concatenate([np.full(r.size, y) for r, y in rows])
    staff = np.where(chunk.insures_staff[who], chunk.headcount[who], 2)
    median_yuan = np.where(chunk.individual[who], 200_000.0, staff * 300_000.0)
    revenue = np.round(median_yuan * 100 * rng.lognormal(0, 0.8, who.size)).astype(np.int64)
    in_arrears = rng.random(who.size) < 0.04
    arrears = np.where(
        in_arrears, np.round(rng.lognormal(np.log(2_000_000), 1.0, who.size)).astype(np.int64), 0
    )
    return dataset_frame(TAX_STATUS, ctx.as_of, {
        "uscc": chunk.uscc.gather(who),
        "year": year_column,
        "annual_revenue_fen": revenue,
        "arrears_fen": arrears,
    })
