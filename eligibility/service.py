"""Eligibility services used by the CLI and the API: previewing a policy's impact on the
population held (against the version in force), finding a policy by file or id (the registry's
version in force first, then the bundled file), and explaining one subject named by an ID
number or a USCC. Queries live in ``repository``; evaluation in ``evaluator``/``explain``."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Engine
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from app.datahub.regions import region_name
from app.db import session_scope
from app.errors import NotFound, ValidationFailed
from app.privacy import keyring
from eligibility import repository
from eligibility.evaluator import DECISION_COLUMNS, evaluate_population, parameter_values
from eligibility.explain import Explanation, explain
from eligibility.frames import SubjectData
from eligibility.policy import CompiledPolicy, load_file
from eligibility.policy.loader import policy_files
from eligibility.policy.model import BenefitPeriod
from eligibility.registry import service as registry
from eligibility.schemas import PreviewChange, PreviewGroup, PreviewReport, PreviewTotals

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
PAYMENTS_PER_YEAR = {BenefitPeriod.MONTHLY: 12, BenefitPeriod.QUARTERLY: 4, BenefitPeriod.YEARLY: 1}


def version_in_force(engine: Engine, policy_id: str, as_of: date) -> CompiledPolicy | None:
    """The registry's version of ``policy_id`` in force on ``as_of``, if it holds one."""
    with session_scope(engine) as session:
        return registry.version_in_force(session, policy_id, as_of)


def find_policy(
    reference: str, engine: Engine | None = None, as_of: date | None = None,
    folder: Path = POLICY_DIR,
) -> CompiledPolicy:
    """A policy file path; else, for a policy id, the registry's version in force on ``as_of``
    (when ``engine`` and ``as_of`` are given); else the bundled policy file of that id."""
    path = Path(reference)
    if path.exists():
        return load_file(path)
    if engine is not None and as_of is not None:
        found = version_in_force(engine, reference, as_of)
        if found is not None:
            return found
    for candidate in policy_files(folder):
        if candidate.stem == reference:
            return load_file(candidate)
    raise NotFound(f"no policy file or bundled policy id {reference!r}")


def region_column(policy: CompiledPolicy) -> str | None:
    fields = policy.view.fields
    return (
        "region_code"
        if "region_code" in fields
        else ("birth_region" if "birth_region" in fields else None)
    )


def _costs(policy: CompiledPolicy, amount: int) -> tuple[int | None, int | None, int | None]:
    period = policy.document.benefit.period
    per_year = PAYMENTS_PER_YEAR.get(period)
    if per_year is None:
        return None, None, amount
    return round(amount * per_year / 12), amount * per_year, None


def _eligible_groups(
    policy: CompiledPolicy, result: pl.DataFrame, data: SubjectData
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Eligible rows with their region, and their count and amount by region and tier."""
    region = region_column(policy)
    base = data.base.select(
        pl.col(policy.view.key).alias("subject_key"),
        (pl.col(region) if region else pl.lit(None, pl.String)).alias("region_code"),
    )
    eligible = result.filter("eligible").join(base, on="subject_key", how="left")
    groups = (
        eligible.group_by("region_code", "tier")
        .agg(
            pl.len().alias("eligible"), pl.col("amount_fen").fill_null(0).sum().alias("amount_fen")
        )
        .with_columns(pl.col("tier").cast(pl.String), pl.col("amount_fen").cast(pl.Int64))
        .sort("region_code", "tier", nulls_last=True)
    )
    return eligible, groups


def _group_views(groups: pl.DataFrame) -> list[PreviewGroup]:
    return [
        PreviewGroup(
            region_code=g["region_code"],
            region_name=region_name(g["region_code"] or "") or "未知",
            tier=g["tier"],
            eligible=g["eligible"],
            amount_fen=g["amount_fen"],
        )
        for g in groups.to_dicts()
    ]


def preview(
    policy: CompiledPolicy, data: SubjectData, as_of: date, against: CompiledPolicy | None = None
) -> PreviewReport:
    started = time.perf_counter()
    result = evaluate_population(policy, data, as_of, DECISION_COLUMNS)
    eligible, groups = _eligible_groups(policy, result, data)
    amount = int(eligible.get_column("amount_fen").fill_null(0).sum())
    per_month, per_year, one_off = _costs(policy, amount)
    report = PreviewReport(
        policy_id=policy.id,
        policy_version=policy.version,
        title=policy.document.title,
        as_of=as_of.isoformat(),
        benefit_kind=policy.document.benefit.kind.value,
        benefit_period=policy.document.benefit.period.value,
        parameters={
            k: (
                v.isoformat()
                if isinstance(v, date)
                else v
                if isinstance(v, int | str | bool)
                else str(v)
            )
            for k, v in parameter_values(policy, as_of).items()
        },
        totals=PreviewTotals(
            subjects=result.height,
            eligible=eligible.height,
            amount_fen=amount,
            cost_per_month_fen=per_month,
            cost_per_year_fen=per_year,
            one_off_total_fen=one_off,
        ),
        by_group=_group_views(groups),
    )
    if against is not None:
        report.change = _change(against, result, groups, data, as_of, report)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _delta(new: int | None, old: int | None) -> int | None:
    return new - old if new is not None and old is not None else None


def _change(
    old_policy: CompiledPolicy,
    new: pl.DataFrame,
    new_groups: pl.DataFrame,
    data: SubjectData,
    as_of: date,
    report: PreviewReport,
) -> PreviewChange:
    old = evaluate_population(old_policy, data, as_of, DECISION_COLUMNS)
    both = new.select("subject_key", "eligible").join(
        old.select("subject_key", pl.col("eligible").alias("was")),
        on="subject_key",
        how="full",
        coalesce=True,
    )
    now, was = pl.col("eligible").fill_null(False), pl.col("was").fill_null(False)
    old_eligible, old_groups = _eligible_groups(old_policy, old, data)
    old_amount = int(old_eligible.get_column("amount_fen").fill_null(0).sum())
    old_month, old_year, old_once = _costs(old_policy, old_amount)
    groups = (
        new_groups.join(
            old_groups, on=["region_code", "tier"], how="full", coalesce=True, nulls_equal=True,
            suffix="_old",
        )
        .select(
            "region_code", "tier",
            (pl.col("eligible").fill_null(0) - pl.col("eligible_old").fill_null(0))
            .alias("eligible"),
            (pl.col("amount_fen").fill_null(0) - pl.col("amount_fen_old").fill_null(0))
            .alias("amount_fen"),
        )
        .filter((pl.col("eligible") != 0) | (pl.col("amount_fen") != 0))
        .sort("region_code", "tier", nulls_last=True)
    )
    totals = report.totals
    return PreviewChange(
        against_version=old_policy.version,
        newly_eligible=both.filter(now & ~was).height,
        no_longer_eligible=both.filter(~now & was).height,
        eligible_delta=totals.eligible - old_eligible.height,
        cost_per_month_delta_fen=_delta(totals.cost_per_month_fen, old_month),
        cost_per_year_delta_fen=_delta(totals.cost_per_year_fen, old_year),
        one_off_total_delta_fen=_delta(totals.one_off_total_fen, old_once),
        by_group=_group_views(groups),
    )


def is_resident_id(text: str) -> bool:
    """GB 11643 format, check digit and birth date. Not the place code: ``stdnum`` rejects a code
    that did not exist on the birth date (440604 dates from 2002), but IDs issued later carry the
    current code, so a 禅城区 resident born in 1955 has a valid 440604... number."""
    try:
        number = ric.compact(text)
        if len(number) != 18 or not number[:-1].isdigit():
            return False
        if number[-1] != ric.calc_check_digit(number):
            return False
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return True


def subject_keys(engine: Engine, policy: CompiledPolicy, subject: str) -> list[str]:
    """Keys of the subjects an ID number or USCC names, for ``policy``'s subject kind."""
    text = subject.strip().upper()
    kind = policy.view.kind
    if kind == "enterprise":
        if not uscc.is_valid(text):
            raise ValidationFailed("not a valid unified social credit code", "统一社会信用代码无效")
        return [text]
    if not is_resident_id(text):
        raise ValidationFailed("not a valid resident ID number", "公民身份号码无效")
    key = keyring().subject_key(text)
    if kind == "person":
        return [key]
    found: list[str] = []
    for column in ("child_key", "mother_key", "father_key"):
        found += repository.find_keys(engine, "birth_certificate", column, key)
    if not found:
        raise NotFound("no birth certificate for that ID number", "未找到相关出生医学证明")
    return list(dict.fromkeys(found))


def explain_subject(
    engine: Engine, policy: CompiledPolicy, subject: str, as_of: date
) -> list[Explanation]:
    keys = subject_keys(engine, policy, subject)
    data = repository.load_subject_data(engine, policy.view.kind, keys)
    if data.base.height == 0:
        raise NotFound(f"subject not found in the {policy.view.kind} data", "未找到该对象的数据")
    return [
        explain(policy, data, key, as_of) for key in data.base.get_column(policy.view.key).to_list()
    ]
