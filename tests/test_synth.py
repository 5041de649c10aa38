"""The synthetic city: deterministic, every dirty row listed (and only those), valid and
consistent identifiers, milestone birthdays on every day, believable life events."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from app.datahub.catalog import DATASETS
from app.datahub.synth import REFERENCE_DATE, generate_city
from app.datahub.synth.cohorts import MILESTONE_AGES, WINDOW_DAYS, cohort
from app.datahub.synth.dirty import DirtyKind
from app.datahub.synth.writer import MANIFEST_NAME
from tests.synth_checks import manifest, read_dataset, ric_valid, row_problems

PERSONS, ENTERPRISES, SEED = 5_000, 600, 11


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate_city(out, persons=PERSONS, enterprises=ENTERPRISES, seed=SEED, dirty_share=0.04)
    return out


@pytest.fixture(scope="module")
def problems(city: Path) -> dict[str, dict[int, str]]:
    return row_problems(city)


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def _dirty_rows(city: Path) -> dict[str, dict[int, str]]:
    listed: dict[str, dict[int, str]] = {spec.name: {} for spec in DATASETS}
    for entry in manifest(city)["dirty_rows"]:
        listed[entry["dataset"]][entry["row_number"]] = entry["kind"]
    return listed


def _clean(city: Path, name: str) -> pl.DataFrame:
    spec = next(s for s in DATASETS if s.name == name)
    dirty = list(_dirty_rows(city)[name])
    return (read_dataset(city, spec).with_row_index("row", 1)
            .filter(~pl.col("row").is_in(dirty)))


def test_same_arguments_write_identical_bytes(city: Path, tmp_path: Path) -> None:
    generate_city(tmp_path / "again", persons=PERSONS, enterprises=ENTERPRISES, seed=SEED,
                  dirty_share=0.04)
    generate_city(tmp_path / "other", persons=PERSONS, enterprises=ENTERPRISES, seed=SEED + 1,
                  dirty_share=0.04)
    assert _digest(tmp_path / "again") == _digest(city)
    assert _digest(tmp_path / "other")["person.csv"] != _digest(city)["person.csv"]


def test_one_csv_per_dataset_with_the_catalog_header(city: Path) -> None:
    names = {p.name for p in city.iterdir()}
    assert names == {f"{spec.name}.csv" for spec in DATASETS} | {MANIFEST_NAME}
    listed = manifest(city)["datasets"]
    for spec in DATASETS:
        text = (city / f"{spec.name}.csv").read_text(encoding="utf-8")
        header, *rows = text.splitlines()
        assert header.split(",") == [f.name for f in spec.all_fields]
        assert len(rows) == listed[spec.name]["rows"] > 0, spec.name


def test_manifest_lists_exactly_the_rows_the_catalog_rejects(
    city: Path, problems: dict[str, dict[int, str]]
) -> None:
    listed = _dirty_rows(city)
    for spec in DATASETS:
        assert set(problems[spec.name]) == set(listed[spec.name]), spec.name
    kinds = {kind for rows in listed.values() for kind in rows.values()}
    assert kinds == {kind.value for kind in DirtyKind}
    total = sum(manifest(city)["datasets"][s.name]["rows"] for s in DATASETS)
    assert 0.02 < sum(len(rows) for rows in listed.values()) / total < 0.06


def test_kinds_of_dirt_are_what_the_manifest_says(
    city: Path, problems: dict[str, dict[int, str]]
) -> None:
    expected = {
        "bad_id_checksum": {"id"}, "id_birth_date_mismatch": {"birth_date"},
        "impossible_date": {"date", "period"}, "unknown_region": {"region"},
        "bad_uscc_check": {"uscc"}, "duplicate_row": {"duplicate"},
        "enum_out_of_range": {"enum"}, "missing_required": {"missing"},
        "negative_amount": {"minimum"}, "unknown_enterprise": {"reference"},
        "unknown_person": {"reference"},
    }
    for name, rows in _dirty_rows(city).items():
        for row, kind in rows.items():
            assert problems[name][row] in expected[kind], (name, row, kind)


def test_clean_id_numbers_are_valid_unique_and_agree_with_the_row(city: Path) -> None:
    people = _clean(city, "person")
    assert people["id_number"].n_unique() == people.height
    for id_number, birth, sex in people.select("id_number", "birth_date", "sex").iter_rows():
        assert ric_valid(id_number)
        assert ric.get_birth_date(id_number).isoformat() == birth
        assert (int(id_number[16]) % 2 == 1) == (sex == "M")
    assert all(ric.is_valid(v) for v in people["id_number"].sample(400, seed=1))  # the real API
    for name in ("death_record", "marriage_registration", "birth_certificate", "enterprise"):
        frame = _clean(city, name)
        for column in [c for c in frame.columns if c.endswith("id_number")]:
            assert all(ric_valid(v) for v in frame[column].drop_nulls()), (name, column)


def test_the_fast_id_check_agrees_with_stdnum(city: Path) -> None:
    values = pl.concat([
        read_dataset(city, spec)[field.name].drop_nulls()
        for spec in DATASETS for field in spec.fields if field.name.endswith("id_number")
    ])
    sample = [*values.sample(1_500, seed=2).to_list(), "440604195602291234", "440602195001011234"]
    assert not all(ric.is_valid(v) for v in sample)  # the sample holds dirty ones too
    assert [ric_valid(v) for v in sample] == [ric.is_valid(v) for v in sample]


def test_birthplaces_are_mostly_the_hukou_district(city: Path) -> None:
    drawn = _clean(city, "person").filter(pl.col("row") > cohort(REFERENCE_DATE).size)
    people = drawn.filter(pl.col("birth_date") >= "1983")  # older IDs carry 440600 anyway
    foshan = people.filter(pl.col("id_number").str.slice(0, 4) == "4406")
    assert 0.75 < foshan.height / people.height < 0.95


def test_clean_usccs_are_valid_and_encode_kind_and_region(city: Path) -> None:
    entities = _clean(city, "enterprise")
    assert entities["uscc"].n_unique() == entities.height
    for code, kind, region in entities.select("uscc", "kind", "region_code").iter_rows():
        assert uscc.is_valid(code)
        assert code[:2] == ("92" if kind == "individual_business" else "91")
        assert code[2:8] == region
    share = (entities["kind"] == "individual_business").mean()
    assert 0.55 < share < 0.78  # type: ignore[operator]


def test_milestone_birthdays_fall_on_every_day_of_the_window(city: Path) -> None:
    people = _clean(city, "person").filter(
        (pl.col("status") == "active") & (pl.col("region_code") == "440604"))
    births = {date.fromisoformat(b) for b in people["birth_date"]}
    assert date(1956, 2, 29) in births and date(1936, 2, 29) in births
    for offset in range(-WINDOW_DAYS, WINDOW_DAYS + 1):
        day = REFERENCE_DATE + timedelta(days=offset)
        for age in MILESTONE_AGES:
            year = day.year - age
            try:
                born_that_day = date(year, day.month, day.day) in births
            except ValueError:  # 29 February of a common year: nobody's birthday
                continue
            leap_born = (day.month, day.day) == (3, 1) and date(year, 2, 28) + timedelta(1) != day
            assert born_that_day or leap_born, (day, age)


def test_deaths_come_from_matching_departments_within_two_years(city: Path) -> None:
    deaths = _clean(city, "death_record")
    department = {"hospital": "health", "police": "public_security",
                  "funeral_home": "civil_affairs"}
    for kind, dept in deaths.select("source_kind", "source_dept").iter_rows():
        assert department[kind] == dept
    days = deaths["date_of_death"].str.to_date()
    assert days.min() >= REFERENCE_DATE - timedelta(days=731)  # type: ignore[operator]
    assert days.max() < REFERENCE_DATE  # type: ignore[operator]
    per_person = deaths.group_by("id_number").len()["len"].to_list()
    assert max(per_person) <= 3 and any(count > 1 for count in per_person)
    people = _clean(city, "person")
    status = people.join(deaths.select("id_number").unique(), on="id_number")["status"]
    assert set(status) >= {"active", "deceased"}  # the registry lags behind some deaths
    assert set(people.filter(pl.col("status") == "deceased")["id_number"]) <= set(
        deaths["id_number"])


def test_some_die_after_turning_seventy_and_were_paid_after_death(city: Path) -> None:
    people = _clean(city, "person").select("id_number", "birth_date")
    deaths = _clean(city, "death_record").group_by("id_number").agg(
        pl.col("date_of_death").first())
    payments = _clean(city, "legacy_payment")
    joined = people.join(deaths, on="id_number").with_columns(
        pl.col("birth_date").str.to_date(), pl.col("date_of_death").str.to_date())
    after_seventy = joined.filter(
        pl.col("date_of_death") > pl.col("birth_date").dt.offset_by("70y"))
    assert after_seventy.height >= 10
    paid_after = payments.join(after_seventy, on="id_number").filter(
        pl.col("period") > pl.col("date_of_death").dt.strftime("%Y-%m"))
    assert paid_after.height > 0


def test_legacy_payments_are_monthly_once_and_only_from_seventy(city: Path) -> None:
    payments = _clean(city, "legacy_payment")
    assert set(payments["benefit_code"]) == {"longevity_allowance"}
    assert payments.select("id_number", "period").is_duplicated().sum() == 0
    people = _clean(city, "person").select("id_number", "birth_date", "region_code")
    joined = payments.join(people, on="id_number")
    assert joined.height == payments.height and set(joined["region_code"]) == {"440604"}
    for birth, period in joined.select("birth_date", "period").iter_rows():
        assert period > f"{int(birth[:4]) + 70}{birth[4:7]}"


def test_birth_certificates_link_children_and_parents(city: Path) -> None:
    certs = _clean(city, "birth_certificate")
    people = _clean(city, "person")
    ids = set(people["id_number"])
    registered = certs.filter(pl.col("child_id_number").is_not_null())
    assert 0 < certs.height - registered.height < 0.3 * certs.height
    for child, born in registered.select("child_id_number", "birth_date").iter_rows():
        assert ric.get_birth_date(child).isoformat() == born
    # Every child is in the registry, though a deliberately dirty row may have spoilt the check
    # digit or blanked the ID number.
    registry = read_dataset(city, DATASETS[0])
    everyone = set(registry["id_number"].drop_nulls().str.slice(0, 17))
    blanked = set(registry.filter(pl.col("id_number").is_null())["birth_date"])
    for child, born in registered.select("child_id_number", "birth_date").iter_rows():
        assert child[:17] in everyone or born in blanked
    assert registered["birth_date"].min() >= str(REFERENCE_DATE.year - 4)  # type: ignore[operator]
    assert certs["mother_id_number"].is_in(list(ids)).mean() > 0.9  # type: ignore[operator]
    fathers = certs["father_id_number"]
    assert 0.7 < fathers.is_in(list(ids)).mean() < 0.95  # type: ignore[operator]
    assert fathers.null_count() > 0


def test_enterprises_report_staff_layoffs_and_graduates(city: Path) -> None:
    ui = _clean(city, "ui_contribution").with_columns(
        pl.col("insured_headcount", "contribution_fen", "layoffs", "graduates_hired")
        .cast(pl.Int64))
    periods = sorted(set(ui["period"]))
    assert len(periods) == 24 and periods[-1] == "2026-11"
    assert (ui["contribution_fen"] > 0).all() and ui["graduates_hired"].sum() > 0
    year = ui.filter(pl.col("period") >= "2025-12").group_by("uscc").agg(
        pl.col("layoffs").sum(), pl.col("insured_headcount").mean(), pl.len().alias("months")
    ).filter(pl.col("months") == 12).with_columns(
        (pl.col("layoffs") / pl.col("insured_headcount")).alias("rate"))
    assert (year["rate"] <= 0.055).any() and (year["rate"] > 0.2).any()
    assert ((year["rate"] > 0.055) & (year["rate"] <= 0.2)).any()
    assert (year["insured_headcount"] <= 30).any() and (year["insured_headcount"] > 30).any()
    taxes = _clean(city, "tax_status")
    assert set(taxes["year"]) == {"2024", "2025"} and (taxes["arrears_fen"] != "0").any()


def test_a_second_chunking_still_lists_every_dirty_row(tmp_path: Path) -> None:
    report = generate_city(tmp_path, persons=7_000, enterprises=300, seed=3, chunk_size=2_000)
    assert report.rows["person"] >= 7_000
    found = row_problems(tmp_path)
    listed = _dirty_rows(tmp_path)
    assert all(set(found[n]) == set(listed[n]) for n in found)
    people = _clean(tmp_path, "person")
    assert people["id_number"].n_unique() == people.height


def test_the_registry_holds_at_least_the_milestone_cohort(tmp_path: Path) -> None:
    report = generate_city(tmp_path, persons=10, enterprises=5, seed=1, dirty_share=0)
    assert report.rows["person"] == cohort(REFERENCE_DATE).size and report.dirty_rows == 0
    assert manifest(tmp_path)["dirty_rows"] == []


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    persons=st.integers(0, 6_000),
    enterprises=st.integers(0, 400),
    seed=st.integers(0, 2**16),
    chunk_size=st.sampled_from([1_000, 2_500, 100_000]),
)
def test_small_cities_of_any_seed_are_written_with_every_dirty_row_listed(
    tmp_path_factory: pytest.TempPathFactory, persons: int, enterprises: int, seed: int,
    chunk_size: int,
) -> None:
    """Regression: ``--persons 3000 --seed 5`` crashed, because a registry of only the elderly
    milestone cohort has no woman of child-bearing age to be a newborn's mother."""
    out = tmp_path_factory.mktemp("small")
    report = generate_city(out, persons=persons, enterprises=enterprises, seed=seed,
                           chunk_size=chunk_size)
    assert report.rows["person"] >= max(persons, cohort(REFERENCE_DATE).size)
    found, listed = row_problems(out), _dirty_rows(out)
    assert all(set(found[name]) == set(listed[name]) for name in found)


def test_the_city_that_crashed_is_written(tmp_path: Path) -> None:
    report = generate_city(tmp_path, persons=3_000, enterprises=300, seed=5)
    assert report.rows["birth_certificate"] > 0 and report.rows["enterprise"] > 0
