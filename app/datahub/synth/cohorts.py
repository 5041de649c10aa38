"""The milestone cohort: people placed in the registry so that every policy date has someone.

For every day within a year (366 days) either side of the extraction date and every age in
``MILESTONE_AGES`` there is a living, local resident whose birthday of that age falls on that
day; people born on 29 February are added where their birthday falls in a common year. A second,
small group turned 70 or 80 in the past year and died weeks later, so payments made after a
death must be recovered. Everybody else is drawn at random in ``people``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from app.datahub.synth.dates import NO_DAY, Days, day_number, from_ymd, is_leap, ymd

MILESTONE_AGES = (60, 65, 70, 80, 90, 100)
WINDOW_DAYS = 366
DEATH_AGES = (70, 80)
DEATHS_PER_AGE = 12


@dataclass(frozen=True)
class Cohort:
    birth: Days
    male: npt.NDArray[np.bool_]
    death: Days  # NO_DAY for the living milestone cohort

    @property
    def size(self) -> int:
        return int(self.birth.size)


def milestone_births(as_of: date) -> Days:
    """Birth days of the milestone cohort: one per (day in the window, age), plus 29 February
    births whose birthday in a common year of the window falls on 1 March (or 28 February)."""
    end = day_number(as_of)
    days = np.arange(end - WINDOW_DAYS, end + WINDOW_DAYS + 1, dtype=np.int64)
    year, month, day = ymd(days)
    births: list[Days] = []
    for age in MILESTONE_AGES:
        born = year - age
        exists = ~((month == 2) & (day == 29) & ~is_leap(born))
        births.append(from_ymd(born[exists], month[exists], day[exists]))
        leap_day = (month == 3) & (day == 1) & ~is_leap(year) & is_leap(born)
        births.append(from_ymd(born[leap_day], 2, 29))
    return np.concatenate(births)


def deaths_after_milestone(as_of: date) -> tuple[Days, Days]:
    """(birth, death) of people who turned 70 or 80 in the past year and died 10-59 days later."""
    end = day_number(as_of)
    births: list[Days] = []
    deaths: list[Days] = []
    for age in DEATH_AGES:
        k = np.arange(DEATHS_PER_AGE)
        birthday = end - 60 - 30 * k
        year, month, day = ymd(birthday)
        births.append(from_ymd(year - age, month, np.minimum(day, 28)))
        deaths.append((birthday + 10 + (k * 7) % 50).astype(np.int32))
    return np.concatenate(births), np.concatenate(deaths)


def cohort(as_of: date) -> Cohort:
    milestone = milestone_births(as_of)
    died_birth, died = deaths_after_milestone(as_of)
    birth = np.concatenate([milestone, died_birth]).astype(np.int32)
    death = np.concatenate([np.full(milestone.size, NO_DAY, dtype=np.int32), died])
    return Cohort(birth=birth, male=np.arange(birth.size) % 2 == 0, death=death)
