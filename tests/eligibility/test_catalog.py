"""The bundled policy catalog: every file validates, every test case passes, the catalog covers
the DESIGN policies, and the published JSON Schema matches the format's model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eligibility.policy import load_file
from eligibility.policy.loader import json_schema, policy_files
from eligibility.policy.testing import run_tests

ROOT = Path(__file__).resolve().parents[2]
FILES = policy_files(ROOT / "policies")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bundled_policy_passes_its_test_cases(path: Path) -> None:
    policy = load_file(path)
    results = run_tests(policy)
    assert len(results) >= 3, "every bundled policy tests its boundaries"
    failures = [f"{r.name}: {r.failures}" for r in results if not r.passed]
    assert not failures


def test_catalog_covers_the_design_policies() -> None:
    ids = {load_file(p).id for p in FILES}
    assert {
        "longevity-allowance",
        "elderly-card",
        "senior-bus-card",
        "disability-living-subsidy",
        "disability-nursing-subsidy",
        "childcare-subsidy",
        "birth-bundle",
        "premarital-check-voucher",
        "prenatal-check-voucher",
        "medical-insurance-subsidy",
        "job-retention-refund",
        "job-expansion-subsidy",
        "individual-business-support",
    } <= ids


def test_regional_examples_say_so() -> None:
    for path in FILES:
        policy = load_file(path)
        regional_params = [n for n, p in policy.document.parameters.items() if p.regional_example]
        if regional_params:
            assert policy.document.metadata.regional_example, f"{path.name}: {regional_params}"


def test_published_schema_is_current() -> None:
    published = json.loads(
        (ROOT / "eligibility" / "policy.schema.json").read_text(encoding="utf-8")
    )
    assert published == json.loads(json.dumps(json_schema())), (
        "run: mianshen policy schema --out eligibility/policy.schema.json"
    )


def test_version_is_stable_across_loads() -> None:
    assert load_file(FILES[0]).version == load_file(FILES[0]).version
