"""A small evaluation backend written in test code, standing in for the policy engine while it
is built elsewhere: it loads real rows of the shared data (person, death_record, enterprise)
through SQLAlchemy and evaluates four hand-written policies with Polars. The pipeline under test
only sees the seam (:mod:`eligibility.sweeps.backend`).

Policies (amounts in fen):
- ``test-longevity``: person aged ≥ 70 on the date, 户籍 in 440604, status active, no death record
  on or before the date; monthly; tier by age 70-79 / 80-89 / 90+ at 10000 / 20000 / 50000
  (the 70-79 amount rises to 12000 from 2026-01-01: a dated parameter).
- ``test-elderly-card``: person aged ≥ 60, 户籍 in 440604, status active; an e-certificate
  (does not look at death records, so a death record with an active registry is a
  disagreement between departments).
- ``test-job-retention``: active enterprise of size small or micro in 440604; one-off refund
  of 300000 fen (large enterprises 5000000), after a 5-working-day public notice.
- ``test-confirmed``: person aged ≥ 65 local and active; monthly 5000 after internal review
  and the beneficiary's confirmation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Connection

from app.datahub.models import DeathRecord, Enterprise, Person
from eligibility.grants.hooks import Hook, register
from eligibility.sweeps.backend import BenefitKind, PolicySpec, ProcessStep, Selection

LOCAL = "440604"

LONGEVITY = PolicySpec(
    id="test-longevity", version="v1-longevity", subject_kind="person", title="高龄津贴(测试)",
    benefit_kind=BenefitKind.RECURRING_CASH, period_kind="month",
    parameters={
        "amount_70": ((date(2020, 1, 1), 10_000), (date(2026, 1, 1), 12_000)),
        "amount_80": ((date(2020, 1, 1), 20_000),),
        "amount_90": ((date(2020, 1, 1), 50_000),),
    },
    legacy_benefit_code="GJ-LONGEVITY",
)
ELDERLY_CARD = PolicySpec(
    id="test-elderly-card", version="v1-card", subject_kind="person", title="老年人优待证(测试)",
    benefit_kind=BenefitKind.CERTIFICATE,
)
JOB_RETENTION = PolicySpec(
    id="test-job-retention", version="v1-jr", subject_kind="enterprise", title="稳岗返还(测试)",
    benefit_kind=BenefitKind.ONE_OFF_CASH, period_kind="once",
    process=(ProcessStep.PUBLIC_NOTICE,), notice_working_days=5, review_threshold_fen=1_000_000,
)
CONFIRMED = PolicySpec(
    id="test-confirmed", version="v1-confirmed", subject_kind="person", title="需确认补贴(测试)",
    benefit_kind=BenefitKind.RECURRING_CASH, period_kind="month",
    process=(ProcessStep.INTERNAL_REVIEW, ProcessStep.CONFIRMATION),
)
ALL_POLICIES = (LONGEVITY, ELDERLY_CARD, JOB_RETENTION, CONFIRMED)


def _in(selection: Selection, column: Any) -> list[Any]:
    conditions = []
    if selection.key_lo is not None:
        conditions.append(column >= selection.key_lo)
    if selection.key_hi is not None:
        conditions.append(column < selection.key_hi)
    if selection.keys is not None:
        conditions.append(column.in_(list(selection.keys)))
    return conditions


def _frame(connection: Connection, statement: Any, schema: dict[str, Any]) -> pl.DataFrame:
    rows = [tuple(row) for row in connection.execute(statement)]
    return pl.DataFrame(rows, schema=schema, orient="row")


def _age(birth: pl.Expr, on: date) -> pl.Expr:
    had_birthday = (birth.dt.month() < on.month) | (
        (birth.dt.month() == on.month) & (birth.dt.day() <= on.day)
    )
    return on.year - birth.dt.year() - (~had_birthday).cast(pl.Int32)


class TestBackend:
    __test__ = False  # not a pytest class

    def __init__(self, policies: Sequence[PolicySpec] = ALL_POLICIES) -> None:
        self.policy_list = list(policies)
        self.evaluations = 0

    def policies(self, as_of: date, bind: Any = None) -> Sequence[PolicySpec]:
        only = os.environ.get("MIANSHEN_TEST_POLICIES")
        chosen = [p for p in self.policy_list if p.in_force(as_of)]
        return [p for p in chosen if p.id in only.split(",")] if only else chosen

    def load(self, connection: Connection, subject_kind: str, selection: Selection) -> Any:
        if subject_kind == "enterprise":
            table = Enterprise.__table__  # type: ignore[attr-defined]
            statement = select(
                table.c.uscc, table.c.size_class, table.c.region_code, table.c.status
            ).where(*_in(selection, table.c.uscc))
            schema = {"subject_key": pl.String, "size_class": pl.String,
                      "region_code": pl.String, "status": pl.String}
            return {"enterprise": _frame(connection, statement, schema)}
        person = Person.__table__  # type: ignore[attr-defined]
        deaths = DeathRecord.__table__  # type: ignore[attr-defined]
        persons = _frame(
            connection,
            select(person.c.subject_key, person.c.birth_date, person.c.region_code,
                   person.c.status).where(*_in(selection, person.c.subject_key)),
            {"subject_key": pl.String, "birth_date": pl.Date, "region_code": pl.String,
             "status": pl.String},
        )
        death = _frame(
            connection,
            select(deaths.c.subject_key, deaths.c.date_of_death, deaths.c.source_kind).where(
                *_in(selection, deaths.c.subject_key)
            ),
            {"subject_key": pl.String, "date_of_death": pl.Date, "source_kind": pl.String},
        )
        return {"person": persons, "death_record": death}

    def evaluate(self, policy: PolicySpec, frames: Any, as_of: date) -> pl.DataFrame:
        self.evaluations += 1
        time.sleep(float(os.environ.get("MIANSHEN_TEST_EVAL_DELAY", "0")))
        if policy.subject_kind == "enterprise":
            e = frames["enterprise"]
            small = pl.col("size_class").is_in(["small", "micro"])
            eligible = (pl.col("status") == "active") & (pl.col("region_code") == LOCAL)
            return e.select(
                "subject_key",
                eligible.alias("eligible"),
                pl.when(eligible).then(pl.when(small).then(pl.lit("sme")).otherwise(pl.lit("large")))
                .otherwise(None).alias("tier"),
                pl.when(eligible).then(pl.when(small).then(300_000).otherwise(5_000_000))
                .otherwise(None).cast(pl.Int64).alias("amount_fen"),
                (pl.col("status") == "active").alias("active"),
                (pl.col("region_code") == LOCAL).alias("local"),
            )
        persons, deaths = frames["person"], frames["death_record"]
        dead = deaths.filter(pl.col("date_of_death") <= as_of).select("subject_key").unique()
        p = persons.with_columns(
            _age(pl.col("birth_date"), as_of).alias("age"),
            pl.col("subject_key").is_in(dead["subject_key"].implode()).alias("has_death_record"),
        )
        local = (pl.col("region_code") == LOCAL) & (pl.col("status") == "active")
        params = policy.parameters_at(as_of)
        if policy.id == "test-longevity":
            eligible = (pl.col("age") >= 70) & local & ~pl.col("has_death_record")
            tier = pl.when(pl.col("age") >= 90).then(pl.lit("90+")).when(pl.col("age") >= 80).then(
                pl.lit("80-89")).otherwise(pl.lit("70-79"))
            amount = pl.when(pl.col("age") >= 90).then(params["amount_90"]).when(
                pl.col("age") >= 80).then(params["amount_80"]).otherwise(params["amount_70"])
        elif policy.id == "test-elderly-card":
            eligible = (pl.col("age") >= 60) & local
            tier, amount = pl.lit(None, pl.String), pl.lit(None, pl.Int64)
        else:
            eligible = (pl.col("age") >= 65) & local & ~pl.col("has_death_record")
            tier, amount = pl.lit(None, pl.String), pl.lit(5_000)
        return p.select(
            "subject_key",
            eligible.alias("eligible"),
            pl.when(eligible).then(tier).otherwise(None).cast(pl.String).alias("tier"),
            pl.when(eligible).then(amount).otherwise(None).cast(pl.Int64).alias("amount_fen"),
            "age",
            local.alias("local_and_active"),
            (~pl.col("has_death_record")).alias("alive"),
        )

    def snapshot(self, frames: Any, subject_keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        wanted = pl.Series(list(subject_keys), dtype=pl.String)
        found: dict[str, dict[str, Any]] = {k: {} for k in subject_keys}
        for name, frame in frames.items():
            for row in frame.filter(pl.col("subject_key").is_in(wanted.implode())).iter_rows(
                named=True
            ):
                found[row["subject_key"]].setdefault(name, []).append(row)
        return found


def _hang_once(session: Any, _changes: Any) -> None:
    """Fault injection for the killed-worker test: the first shard to reach its hooks (all its
    rows written, nothing committed) records this process id and hangs until it is killed."""
    marker = os.environ["MIANSHEN_TEST_HANG_MARKER"]
    try:
        handle = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    session.flush()
    os.write(handle, str(os.getpid()).encode())
    os.close(handle)
    time.sleep(300)


backend = TestBackend()
if os.environ.get("MIANSHEN_TEST_HANG_MARKER"):
    register(Hook.GRANT_CHANGED, _hang_once)
if os.environ.get("MIANSHEN_TEST_CARD_CERTIFICATES"):
    # Worker processes of the distributed tests: the test elderly card is issued as an
    # e-certificate by the production hook, like the catalog's elderly card.
    from certs.grant_hooks import CERTIFICATE_POLICIES
    from certs.models import CertType

    CERTIFICATE_POLICIES["test-elderly-card"] = CertType.ELDERLY_CARD
