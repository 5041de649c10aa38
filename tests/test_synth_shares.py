"""Shares in a mid-sized synthetic city fall where the brief puts them: census age pyramid and
sex ratio, Chancheng-weighted 户籍, disability, social assistance, deaths, enterprise kinds."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from rich.progress import Progress

from app.datahub.catalog import DATASETS
from app.datahub.synth import REFERENCE_DATE, generate_city, progress_reporter
from app.datahub.synth.cohorts import cohort
from tests.synth_checks import read_dataset

PERSONS, ENTERPRISES = 40_000, 4_000


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    with Progress(disable=True) as progress:
        generate_city(out, persons=PERSONS, enterprises=ENTERPRISES, seed=5, dirty_share=0,
                      on_progress=progress_reporter(progress))
        assert {t.description: (t.completed, t.total) for t in progress.tasks} == {
            "synthesise persons": (PERSONS, PERSONS),
            "synthesise enterprises": (ENTERPRISES, ENTERPRISES),
        }
    return out


def _frame(city: Path, name: str) -> pl.DataFrame:
    return read_dataset(city, next(s for s in DATASETS if s.name == name))


def _drawn_people(city: Path) -> pl.DataFrame:
    """Registry rows after the milestone cohort, with age on the extraction date."""
    people = _frame(city, "person").slice(cohort(REFERENCE_DATE).size)
    age = (pl.lit(REFERENCE_DATE) - pl.col("birth_date").str.to_date()).dt.total_days() / 365.2425
    return people.with_columns(age.alias("age"))


def test_age_pyramid_and_sex_ratio_follow_the_census(city: Path) -> None:
    people = _drawn_people(city)
    assert 0.15 < (people["age"] < 15).mean() < 0.21  # type: ignore[operator]
    assert 0.16 < (people["age"] >= 60).mean() < 0.22  # type: ignore[operator]
    assert 0.02 < (people["age"] >= 80).mean() < 0.04  # type: ignore[operator]
    men = int((people["sex"] == "M").sum())
    assert 0.98 < men / (people.height - men) < 1.12


def test_hukou_is_foshan_weighted_to_chancheng(city: Path) -> None:
    people = _drawn_people(city)
    shares = people["region_code"].value_counts(normalize=True).rows()
    share = dict(shares)
    assert set(share) == {"440604", "440605", "440606", "440607", "440608"}
    assert 0.4 < share["440604"] < 0.5 and max(share, key=share.get) == "440604"  # type: ignore[arg-type]
    status = dict(people["status"].value_counts(normalize=True).rows())
    assert status["active"] > 0.95 and 0.003 < status["moved_out"] < 0.015


def test_welfare_and_death_rates_are_plausible(city: Path) -> None:
    persons = _frame(city, "person").height
    disabled = _frame(city, "disability_certificate")["id_number"].n_unique()
    assert 0.02 < disabled / persons < 0.032
    kinds = dict(_frame(city, "social_assistance")["assistance_kind"].value_counts().rows())
    assert 0.011 < kinds["dibao"] / persons < 0.021
    assert 0.0015 < kinds["tekun"] / persons < 0.005
    assert 0.006 < kinds["low_income"] / persons < 0.014
    died = _frame(city, "death_record")["id_number"].n_unique()
    assert 0.004 < died / persons / 2 < 0.012  # per year, over two years


def test_two_thirds_of_market_entities_are_individual_businesses(city: Path) -> None:
    entities = _frame(city, "enterprise")
    assert entities.height == ENTERPRISES
    assert 0.62 < (entities["kind"] == "individual_business").mean() < 0.71  # type: ignore[operator]
    listed = _frame(city, "dishonesty_entry")["uscc"].n_unique() / entities.height
    assert 0.005 < listed < 0.016
