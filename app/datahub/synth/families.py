"""Family events of a chunk of residents: mothers and fathers of young children, birth medical
certificates (some for newborns not yet registered), marriages and divorces, pregnancy
registrations.

``link_parents`` runs before ID numbers are assigned (a child's 户籍 follows the mother's);
``family_frames`` builds the three datasets afterwards. Parents are found inside the chunk, so
memory stays bounded; a father outside the registry gets a valid ID number nobody holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from app.datahub.catalog import BIRTH_CERTIFICATE, MARRIAGE_REGISTRATION, PREGNANCY_REGISTRATION
from app.datahub.synth import names, places
from app.datahub.synth.context import CityContext
from app.datahub.synth.dates import DAYS_PER_YEAR, Days, Ints, add_years, ymd
from app.datahub.synth.ids import phantom_id_numbers
from app.datahub.synth.people import ACTIVE, PersonChunk
from app.datahub.synth.writer import dataset_frame

NONE = -1
CHILD_YEARS = 4  # birth certificates cover children born in the last four years


@dataclass(frozen=True)
class Parents:
    child: Ints  # chunk positions of registered children with a certificate
    mother: Ints  # chunk position, NONE when the mother is not in the chunk
    father: Ints  # chunk position, NONE when no father in the registry
    father_outside: npt.NDArray[np.bool_]  # a father outside the registry (phantom ID number)


def _pick_partner(
    rng: np.random.Generator, candidates: Ints, candidate_birth: Days, target: Days,
    youngest: float, oldest: float,
) -> Ints:
    """For each target day, a random candidate aged ``youngest``-``oldest`` years then, or NONE.
    ``candidates`` must be sorted by ``candidate_birth``; it may be empty (a small registry of
    only the elderly milestone cohort has nobody of child-bearing age)."""
    if candidates.size == 0:
        return np.full(target.size, NONE, dtype=np.int64)
    lo = np.searchsorted(candidate_birth, target - oldest * DAYS_PER_YEAR, side="left")
    hi = np.searchsorted(candidate_birth, target - youngest * DAYS_PER_YEAR, side="right")
    pick = lo + np.floor(rng.random(target.size) * (hi - lo)).astype(np.int64)
    found = hi > lo
    return np.where(found, candidates[np.minimum(pick, candidates.size - 1)], NONE)


def _sorted_by_birth(chunk: PersonChunk, mask: npt.NDArray[np.bool_]) -> tuple[Ints, Days]:
    members = np.flatnonzero(mask)
    members = members[np.argsort(chunk.birth[members], kind="stable")]
    return members, chunk.birth[members]


def link_parents(rng: np.random.Generator, chunk: PersonChunk, end: int) -> Parents:
    """Mothers (aged 20-42 at the birth) for children born in the last four years, fathers
    (22-50) for most; each child's 户籍 becomes the mother's."""
    young = np.flatnonzero((chunk.birth > end - CHILD_YEARS * DAYS_PER_YEAR) & ~chunk.protected)
    child = young[rng.random(young.size) < 0.97]  # the rest were born outside the city
    usable = chunk.alive & (chunk.status == ACTIVE) & ~chunk.protected
    women, women_birth = _sorted_by_birth(chunk, usable & ~chunk.male)
    men, men_birth = _sorted_by_birth(chunk, usable & chunk.male)
    mother = _pick_partner(rng, women, women_birth, chunk.birth[child], 20, 42)
    father, father_outside = _fathers(rng, men, men_birth, chunk.birth[child])
    has_mother = mother != NONE
    chunk.hukou[child[has_mother]] = chunk.hukou[mother[has_mother]]
    return Parents(child=child, mother=mother, father=father, father_outside=father_outside)


def _fathers(
    rng: np.random.Generator, men: Ints, men_birth: Days, birth: Days
) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """(father position or NONE, father outside the registry): about 85 % of fathers are
    residents, 8 % live elsewhere and 7 % are not on the certificate."""
    father = _pick_partner(rng, men, men_birth, birth, 22, 50)
    draw = rng.random(birth.size)
    outside = ((draw >= 0.85) & (draw < 0.93)) | ((father == NONE) & (draw < 0.85))
    return np.where(draw < 0.85, father, NONE), outside


def family_frames(
    ctx: CityContext, rng: np.random.Generator, chunk: PersonChunk, parents: Parents
) -> dict[str, pl.DataFrame]:
    return {
        BIRTH_CERTIFICATE.name: _birth_certificates(ctx, rng, chunk, parents),
        MARRIAGE_REGISTRATION.name: _marriages(ctx, rng, chunk, parents),
        PREGNANCY_REGISTRATION.name: _pregnancies(ctx, rng, chunk, parents),
    }


def _ids_or_phantoms(
    rng: np.random.Generator, chunk: PersonChunk, position: Ints, birth_if_phantom: Days,
    male: bool,
) -> pl.Series:
    """ID numbers of chunk positions; NONE positions get a valid ID nobody in the registry has."""
    outside = position == NONE
    ids = chunk.id_number.gather(np.maximum(position, 0))
    if outside.any():
        phantom = phantom_id_numbers(
            rng, birth_if_phantom[outside], np.full(int(outside.sum()), male)
        )
        ids = ids.scatter(np.flatnonzero(outside), phantom)
    return ids


def _birth_certificates(
    ctx: CityContext, rng: np.random.Generator, chunk: PersonChunk, parents: Parents
) -> pl.DataFrame:
    end = ctx.end
    # Newborns of the last two months not yet registered: certificate without a child ID.
    usable = chunk.alive & (chunk.status == ACTIVE) & ~chunk.male & ~chunk.protected
    recent = int(np.sum(chunk.birth[parents.child] > end - 60))
    unregistered = int(rng.binomial(max(recent, 1), 0.35))
    women, women_birth = _sorted_by_birth(chunk, usable)
    men, men_birth = _sorted_by_birth(
        chunk, chunk.alive & (chunk.status == ACTIVE) & chunk.male & ~chunk.protected
    )
    new_birth = (end - 1 - rng.integers(0, 60, unregistered)).astype(np.int32)
    new_year, _, _ = ymd(new_birth)
    new_mother = _pick_partner(rng, women, women_birth, new_birth, 20, 42)
    new_father, new_outside = _fathers(rng, men, men_birth, new_birth)
    new_male = rng.random(unregistered) < 0.53

    birth = np.concatenate([chunk.birth[parents.child], new_birth])
    mother = np.concatenate([parents.mother, new_mother])
    father = np.concatenate([parents.father, new_father])
    outside = np.concatenate([parents.father_outside, new_outside])
    male = np.concatenate([chunk.male[parents.child], new_male])
    year, _, _ = ymd(birth)
    child_id = pl.concat([
        chunk.id_number.gather(parents.child), pl.Series([None] * unregistered, dtype=pl.String)
    ])
    child_name = pl.concat([
        chunk.name.gather(parents.child), names.person_names(rng, new_male, new_year)
    ])
    mother_ids = _ids_or_phantoms(rng, chunk, mother, add_years(birth, -28), male=False)
    father_ids = _ids_or_phantoms(rng, chunk, father, add_years(birth, -30), male=True)
    has_father = (father != NONE) | outside
    # A registered child's 户籍 (and ID region) is the mother's district already.
    new_region = np.where(new_mother != NONE, chunk.hukou[np.maximum(new_mother, 0)], 0)
    region = np.concatenate([chunk.hukou[parents.child], new_region])
    serial = ctx.take("birth_certificate", birth.size)
    letters = pl.Series(list("NOPQR")).gather(year % 5)
    number = pl.Series(serial).cast(pl.String).str.zfill(9)
    return dataset_frame(BIRTH_CERTIFICATE, ctx.as_of, {
        "certificate_no": pl.select(pl.concat_str([letters, number])).to_series(),
        "child_id_number": child_id,
        "child_name": child_name,
        "child_sex": np.where(male, "M", "F"),
        "birth_date": pl.Series(birth).cast(pl.Date),
        "birth_region": pl.Series(places.HUKOU_DISTRICTS).gather(region),
        "mother_id_number": mother_ids,
        "father_id_number": pl.select(pl.when(pl.Series(has_father)).then(father_ids)).to_series(),
    })


def _registration_numbers(
    ctx: CityContext, prefix: pl.Series, region: Ints, day: Days, series: str
) -> pl.Series:
    """``J440604-2024-000123``: kind letter, district, year, city-wide serial."""
    year, _, _ = ymd(day)
    serial = pl.Series(ctx.take(series, day.size)).cast(pl.String).str.zfill(6)
    frame = pl.DataFrame({
        "p": prefix, "r": pl.Series(places.HUKOU_DISTRICTS).gather(region),
        "y": pl.Series(year).cast(pl.String), "s": serial,
    })
    return frame.select(pl.concat_str(["p", "r", pl.lit("-"), "y", pl.lit("-"), "s"])).to_series()


def _marriages(
    ctx: CityContext, rng: np.random.Generator, chunk: PersonChunk, parents: Parents
) -> pl.DataFrame:
    """Marriages of the last five years between living residents (legal ages 22 and 20), the
    parents of about half the young children (married before the birth), and divorces of a
    fifth of the recent couples."""
    end = ctx.end
    usable = chunk.alive & (chunk.status == ACTIVE) & ~chunk.protected
    for parent in (parents.mother, parents.father):  # parents marry below, or not at all
        usable[parent[parent != NONE]] = False
    men = np.flatnonzero(usable & chunk.male & (chunk.birth < end - 22 * DAYS_PER_YEAR)
                         & (chunk.birth > end - 60 * DAYS_PER_YEAR))
    grooms = rng.choice(men, size=min(men.size, int(chunk.size * 0.011)), replace=False)
    women, women_birth = _sorted_by_birth(chunk, usable & ~chunk.male)
    brides = _pick_partner(rng, women, women_birth, chunk.birth[grooms], -6, 3)
    keep = brides != NONE
    grooms, brides = grooms[keep], brides[keep]
    brides, first = np.unique(brides, return_index=True)
    grooms = grooms[first]
    day = end - 1 - rng.integers(0, 5 * 365, grooms.size)

    couple = (parents.mother != NONE) & (parents.father != NONE) & (rng.random(parents.child.size)
                                                                     < 0.5)
    p_groom, p_bride = parents.father[couple], parents.mother[couple]
    p_day = chunk.birth[parents.child[couple]] - rng.integers(300, 1500, p_groom.size)

    groom = np.concatenate([grooms, p_groom])
    bride = np.concatenate([brides, p_bride])
    day = np.concatenate([day, p_day])
    legal = np.maximum(add_years(chunk.birth[groom], 22), add_years(chunk.birth[bride], 20))
    day = np.maximum(day, legal)
    kind = np.zeros(day.size, dtype=np.int64)
    divorce = (np.arange(day.size) < grooms.size) & (rng.random(day.size) < 0.2)
    divorce_day = day[divorce] + 365 + rng.integers(0, 4 * 365, int(divorce.sum()))
    keep_divorce = divorce_day < end
    groom = np.concatenate([groom, groom[divorce][keep_divorce]])
    bride = np.concatenate([bride, bride[divorce][keep_divorce]])
    day = np.concatenate([day, divorce_day[keep_divorce]]).astype(np.int32)
    kind = np.concatenate([kind, np.ones(int(keep_divorce.sum()), dtype=np.int64)])
    valid = day < end
    groom, bride, day, kind = groom[valid], bride[valid], day[valid], kind[valid]
    return dataset_frame(MARRIAGE_REGISTRATION, ctx.as_of, {
        "registration_no": _registration_numbers(
            ctx, pl.Series(["J", "L"]).gather(kind), chunk.hukou[bride], day, "marriage"),
        "party_a_id_number": chunk.id_number.gather(groom),
        "party_b_id_number": chunk.id_number.gather(bride),
        "kind": pl.Series(["marriage", "divorce"]).gather(kind),
        "registration_date": pl.Series(day).cast(pl.Date),
    })


def _pregnancies(
    ctx: CityContext, rng: np.random.Generator, chunk: PersonChunk, parents: Parents
) -> pl.DataFrame:
    """Registrations for most births of the past year (12-21 weeks before the birth) and for
    ongoing pregnancies registered in the last 200 days (due dates up to ~9 months ahead)."""
    end = ctx.end
    last_year = (chunk.birth[parents.child] > end - 365) & (parents.mother != NONE)
    had = last_year & (rng.random(parents.child.size) < 0.7)
    mother = parents.mother[had]
    due = chunk.birth[parents.child[had]] + rng.integers(-14, 15, mother.size)
    registered = chunk.birth[parents.child[had]] - rng.integers(150, 240, mother.size)
    usable = chunk.alive & (chunk.status == ACTIVE) & ~chunk.protected & ~chunk.male
    women = np.flatnonzero(usable & (chunk.birth < end - 20 * DAYS_PER_YEAR)
                           & (chunk.birth > end - 42 * DAYS_PER_YEAR))
    ongoing = rng.choice(women, size=min(women.size, int(np.sum(last_year) * 0.6)), replace=False)
    o_registered = end - 1 - rng.integers(0, 200, ongoing.size)
    o_due = o_registered + rng.integers(100, 250, ongoing.size)
    who = np.concatenate([mother, ongoing])
    registered = np.minimum(np.concatenate([registered, o_registered]), end - 1).astype(np.int32)
    due = np.concatenate([due, o_due]).astype(np.int32)
    serial = pl.Series(ctx.take("pregnancy", who.size)).cast(pl.String).str.zfill(8)
    region = pl.Series(places.HUKOU_DISTRICTS).gather(chunk.hukou[who])
    return dataset_frame(PREGNANCY_REGISTRATION, ctx.as_of, {
        "registration_no": pl.select(pl.concat_str([pl.lit("YC"), region, serial])).to_series(),
        "id_number": chunk.id_number.gather(who),
        "registration_date": pl.Series(registered).cast(pl.Date),
        "expected_delivery_date": pl.Series(due).cast(pl.Date),
    })
