"""Edge sizes of the synthetic city: an empty request (no persons, no enterprises), a single
person or enterprise, and the CLI's answer to sizes that make no sense (a usage error, never a
traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from app.cli import cli
from app.datahub.synth import REFERENCE_DATE, generate_city
from app.datahub.synth.cohorts import cohort
from tests.synth_checks import manifest


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(persons=st.integers(0, 2), enterprises=st.integers(0, 2),
       seed=st.integers(0, 2**31 - 1), chunk_size=st.sampled_from([1_000, 100_000]))
def test_tiny_cities_are_written(
    tmp_path_factory: pytest.TempPathFactory, persons: int, enterprises: int, seed: int,
    chunk_size: int,
) -> None:
    out = tmp_path_factory.mktemp("tiny")
    report = generate_city(out, persons=persons, enterprises=enterprises, seed=seed,
                           chunk_size=chunk_size)
    assert report.rows["person"] >= cohort(REFERENCE_DATE).size
    assert report.rows["enterprise"] <= enterprises * 2  # a duplicate row at most per entity
    assert manifest(out)["enterprises"] == enterprises


def test_the_cli_writes_an_empty_request_as_the_cohort_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["data", "synth", "--persons", "0", "--enterprises", "0",
                                      "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert manifest(tmp_path)["enterprises"] == 0


@pytest.mark.parametrize("option", ["--persons", "--enterprises"])
def test_the_cli_refuses_negative_sizes_with_a_usage_error(tmp_path: Path, option: str) -> None:
    result = CliRunner().invoke(cli, ["data", "synth", option, "-1", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    text = " ".join(result.output.split())
    assert "Traceback" not in text and "greater than or equal to" in text
    assert not any(tmp_path.iterdir())
