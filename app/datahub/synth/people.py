"""Synthetic residents: who they are (birth, sex, 户籍, birthplace, ID number, name, mobile,
address) and what became of them (death, moves, registry status), one chunk at a time.

Ages follow the 2020 census pyramid, sex ratios its age profile, deaths a Gompertz-Makeham
hazard over the two years before the extraction date. The milestone cohort (``cohorts``) is
placed at the start of the first chunk. Records other departments keep about these people are
built in ``life_events`` and ``families``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from app.datahub.catalog import PERSON
from app.datahub.synth import names, places
from app.datahub.synth.cohorts import Cohort
from app.datahub.synth.dates import DAYS_PER_YEAR, NO_DAY, Days, Ints, day_number, ymd
from app.datahub.synth.ids import SequenceAllocator, id_numbers
from app.datahub.synth.writer import dataset_frame

Bools = npt.NDArray[np.bool_]

# Share of the population by five-year age group, 0-4 … 100-104 (2020 census, rounded).
AGE_PYRAMID = np.array([
    5.52, 6.37, 6.02, 5.24, 5.37, 6.61, 8.80, 6.97, 6.56, 8.10, 8.67, 7.20,
    5.21, 5.23, 3.53, 2.20, 1.48, 0.81, 0.29, 0.08, 0.01,
])
# Share of men by the same age groups (high sex ratio at birth; women outlive men).
MALE_SHARE = np.array([
    0.535, 0.535, 0.535, 0.53, 0.52, 0.52, 0.515, 0.51, 0.51, 0.505, 0.505, 0.50,
    0.495, 0.49, 0.48, 0.47, 0.44, 0.40, 0.36, 0.33, 0.30,
])
STATUSES = PERSON.field("status").values
ACTIVE, DECEASED, MOVED_OUT, CANCELLED = (
    STATUSES.index(s) for s in ("active", "deceased", "moved_out", "cancelled")
)


def annual_mortality(age: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Gompertz-Makeham: about 0.7 % a year at 60, 1.8 % at 70, 4.7 % at 80, 12 % at 90."""
    return np.minimum(0.0005 + 2.3e-5 * np.exp(0.095 * age), 0.6)


@dataclass
class PersonChunk:
    """One chunk of residents as column arrays; ``serial`` is the city-wide row index."""

    serial: Ints
    birth: Days
    male: Bools
    hukou: Ints  # index into places.HUKOU_DISTRICTS: the 户籍 district now (or when it ended)
    protected: Bools  # milestone cohort: alive, local, never dirty, no life-event changes
    died_after_milestone: Bools  # cohort of recent 70/80-year-olds who died weeks later
    death: Days  # NO_DAY when alive
    status: npt.NDArray[np.int8]
    move_out_day: Days  # left the city (status moved_out) or transferred between districts
    move_out_to: Ints  # destination code index into places.HOMES (another district or city)
    move_in_day: Days  # moved into the city
    move_in_from: Ints  # origin code index into places.HOMES
    code_index: Ints = field(default_factory=lambda: np.empty(0, np.int64))
    sequence: Ints = field(default_factory=lambda: np.empty(0, np.int64))
    id_number: pl.Series = field(default_factory=pl.Series)
    name: pl.Series = field(default_factory=pl.Series)

    @property
    def size(self) -> int:
        return int(self.serial.size)

    @property
    def alive(self) -> Bools:
        return self.death == NO_DAY

    def age_at(self, day: int) -> Ints:
        """Completed years of age on ``day``."""
        by, bm, bd = ymd(self.birth)
        dy, dm, dd = ymd(np.int32(day))
        return dy - by - ((dm < bm) | ((dm == bm) & (dd < bd)))


def draw_population(
    rng: np.random.Generator, size: int, as_of: date
) -> tuple[Days, Bools]:
    """Birth days and sexes following the census pyramid, everyone born before ``as_of``."""
    group = rng.choice(AGE_PYRAMID.size, size, p=AGE_PYRAMID / AGE_PYRAMID.sum())
    age_years = (group + rng.random(size)) * 5.0
    birth = day_number(as_of) - 1 - np.floor(age_years * DAYS_PER_YEAR).astype(np.int64)
    male = rng.random(size) < MALE_SHARE[group]
    return birth.astype(np.int32), male


def new_chunk(
    rng: np.random.Generator, first_serial: int, size: int, as_of: date, cohort: Cohort | None
) -> PersonChunk:
    """Residents ``first_serial`` … ``first_serial + size - 1``; ``cohort`` (first chunk only)
    takes the first rows."""
    birth, male = draw_population(rng, size, as_of)
    hukou = places.hukou_districts(rng, size)
    protected = np.zeros(size, dtype=bool)
    forced_death = np.full(size, NO_DAY, dtype=np.int32)
    if cohort is not None:
        n = cohort.size
        birth[:n] = cohort.birth
        male[:n] = cohort.male
        hukou[:n] = 0
        protected[:n] = cohort.death == NO_DAY
        forced_death[:n] = cohort.death
    chunk = PersonChunk(
        serial=np.arange(first_serial, first_serial + size, dtype=np.int64),
        birth=birth, male=male, hukou=hukou, protected=protected,
        died_after_milestone=(forced_death != NO_DAY),
        death=np.full(size, NO_DAY, dtype=np.int32),
        status=np.zeros(size, dtype=np.int8),
        move_out_day=np.full(size, NO_DAY, dtype=np.int32),
        move_out_to=np.zeros(size, dtype=np.int64),
        move_in_day=np.full(size, NO_DAY, dtype=np.int32),
        move_in_from=np.zeros(size, dtype=np.int64),
    )
    _deaths(rng, chunk, as_of, forced_death, fixed=cohort.size if cohort else 0)
    _moves(rng, chunk, as_of)
    return chunk


def _deaths(
    rng: np.random.Generator, chunk: PersonChunk, as_of: date, forced: Days, fixed: int
) -> None:
    """Deaths in the two years before ``as_of``; the registry has caught up with most older
    ones (status ``deceased``) and with few of last month's."""
    end = day_number(as_of)
    age = (end - chunk.birth) / DAYS_PER_YEAR
    dies = rng.random(chunk.size) < 1 - (1 - annual_mortality(age)) ** 2
    dies[:fixed] = False
    earliest = np.maximum(end - 730, chunk.birth.astype(np.int64) + 1)
    day = earliest + np.floor(rng.random(chunk.size) * (end - earliest)).astype(np.int64)
    chunk.death[dies] = day[dies]
    chunk.death[:fixed] = forced[:fixed]
    dead = chunk.death != NO_DAY
    days_since = end - chunk.death.astype(np.int64)
    p_recorded = np.select([days_since > 120, days_since > 30], [0.9, 0.5], 0.15)
    recorded = dead & (rng.random(chunk.size) < p_recorded)
    recorded[:fixed] = dead[:fixed] & (np.arange(fixed) % 2 == 0)
    chunk.status[recorded] = DECEASED


def _moves(rng: np.random.Generator, chunk: PersonChunk, as_of: date) -> None:
    """户籍 moves of living adults: out of the city (status moved_out), between Foshan districts,
    and into the city from elsewhere; dates in the last five (in: ten) years."""
    end = day_number(as_of)
    age = (end - chunk.birth) / DAYS_PER_YEAR
    free = chunk.alive & ~chunk.protected & (age >= 18)
    draw = rng.random(chunk.size)
    leaves = free & (draw < 0.008)
    transfers = free & (draw >= 0.008) & (draw < 0.018)
    arrives = free & (draw >= 0.018) & (draw < 0.043)
    cancelled = free & (draw >= 0.043) & (draw < 0.044)
    chunk.status[cancelled] = CANCELLED
    moved = leaves | transfers
    chunk.move_out_day[moved] = end - 1 - rng.integers(0, 5 * 365, int(moved.sum()))
    chunk.status[leaves] = MOVED_OUT
    outside = np.arange(5, len(places.HOMES))
    chunk.move_out_to[leaves] = rng.choice(outside, int(leaves.sum()))
    # A transfer keeps ``hukou`` as the new district; the old one is any other district.
    old = (chunk.hukou[transfers] + rng.integers(1, 5, int(transfers.sum()))) % 5
    chunk.move_out_to[transfers] = chunk.hukou[transfers]
    chunk.move_in_from[transfers] = old
    chunk.move_in_day[transfers] = chunk.move_out_day[transfers]
    chunk.move_in_day[arrives] = end - 1 - rng.integers(0, 10 * 365, int(arrives.sum()))
    chunk.move_in_from[arrives] = rng.choice(outside, int(arrives.sum()))
    # Nobody moves before being born or after dying.
    for days in (chunk.move_out_day, chunk.move_in_day):
        moved = days != NO_DAY
        days[moved] = np.minimum(np.maximum(days[moved], chunk.birth[moved] + 18 * 366), end - 1)


def assign_ids(
    rng: np.random.Generator, chunk: PersonChunk, allocator: SequenceAllocator,
    born_locally: Bools,
) -> None:
    """Birthplace codes (about one in five born outside their 户籍 district), sequence codes and
    ID numbers, then names."""
    year, _, _ = ymd(chunk.birth)
    elsewhere = (rng.random(chunk.size) < 0.2) & ~born_locally & ~chunk.protected
    home = chunk.hukou.copy()
    transferred = chunk.move_in_day != NO_DAY
    home[transferred] = chunk.move_in_from[transferred]  # born where they came from
    code = places.birthplace_codes(rng, home, chunk.hukou, year, elsewhere)
    chunk.code_index, chunk.sequence = allocator.allocate(code, chunk.birth, chunk.male)
    chunk.id_number = id_numbers(chunk.code_index, chunk.birth, chunk.sequence)
    chunk.name = names.person_names(rng, chunk.male, year)


def person_frame(rng: np.random.Generator, chunk: PersonChunk, as_of: date) -> pl.DataFrame:
    age = chunk.age_at(day_number(as_of))
    no_mobile = np.select([age < 14, age >= 80], [0.95, 0.4], 0.03)
    has_mobile = (rng.random(chunk.size) >= no_mobile) | chunk.protected
    mobile = names.mobiles(rng, chunk.serial)
    has_address = rng.random(chunk.size) >= 0.02
    return dataset_frame(PERSON, as_of, {
        "id_number": chunk.id_number,
        "name": chunk.name,
        "sex": np.where(chunk.male, "M", "F"),
        "birth_date": pl.Series(chunk.birth).cast(pl.Date),
        "region_code": pl.Series(places.HUKOU_DISTRICTS).gather(chunk.hukou),
        "address": places.addresses(rng, chunk.hukou, has_address),
        "mobile": pl.select(pl.when(pl.Series(has_mobile)).then(mobile)).to_series(),
        "status": pl.Series(STATUSES).gather(chunk.status.astype(np.int64)),
    })
