"""Monthly unemployment-insurance records (``ui_contribution``) of the market entities that
insure staff, simulated over the 24 months before the extraction date.

Each insuring entity gets an annual layoff rate from a mixture that straddles the job-retention
refund's thresholds (5.5 %, and 20 % for entities with at most 30 insured staff); its headcount
then moves month by month with layoffs, quits, hires and graduates (hired mostly July to
September). Contributions are headcount × the entity's wage base × the employer's rate.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from app.datahub.catalog import UI_CONTRIBUTION
from app.datahub.synth.context import CityContext
from app.datahub.synth.dates import month_number, period_series
from app.datahub.synth.enterprises import EnterpriseChunk
from app.datahub.synth.writer import dataset_frame

MONTHS = 24
EMPLOYER_RATE = 0.0048  # Guangdong employer unemployment-insurance rate
# (share, low, high) of annual layoff rates: most firms lay off little, some cluster around
# the 5.5 % and 20 % thresholds, a few shed staff fast.
LAYOFF_MIXTURE = ((0.50, 0.0, 0.04), (0.18, 0.045, 0.065), (0.12, 0.07, 0.18),
                  (0.12, 0.18, 0.22), (0.08, 0.25, 0.5))


def _layoff_rates(rng: np.random.Generator, size: int) -> np.ndarray:
    shares = np.array([m[0] for m in LAYOFF_MIXTURE])
    component = rng.choice(len(LAYOFF_MIXTURE), size, p=shares / shares.sum())
    low = np.array([m[1] for m in LAYOFF_MIXTURE])[component]
    high = np.array([m[2] for m in LAYOFF_MIXTURE])[component]
    return low + rng.random(size) * (high - low)


def ui_contributions(
    ctx: CityContext, rng: np.random.Generator, chunk: EnterpriseChunk, eligible: np.ndarray
) -> pl.DataFrame:
    end_month = int(month_number(ctx.end))
    first_period = end_month - MONTHS
    who = np.flatnonzero(eligible & chunk.insures_staff)
    start = np.maximum(month_number(chunk.registered[who]) + 1, first_period)
    stop = np.where(chunk.closed[who] == np.iinfo(np.int32).max, end_month - 1,
                    month_number(np.minimum(chunk.closed[who], ctx.end - 1)) - 1)
    rate = _layoff_rates(rng, who.size)
    hires_graduates = rng.random(who.size) < 0.3
    wage_base_fen = np.round(rng.lognormal(np.log(5_500), 0.35, who.size).clip(2_300, 40_000)) * 100
    headcount = chunk.headcount[who].astype(np.int64)
    shape = (who.size, MONTHS)
    staff = np.zeros(shape, dtype=np.int64)
    layoffs = np.zeros(shape, dtype=np.int64)
    graduates = np.zeros(shape, dtype=np.int64)
    for t in range(MONTHS):
        calendar_month = (first_period + t) % 12 + 1
        staff[:, t] = headcount
        laid_off = np.minimum(rng.poisson(headcount * rate / 12), headcount - 1)
        quits = rng.poisson(headcount * 0.012)
        hires = rng.poisson(headcount * (0.012 + 0.004))
        season = 0.03 if calendar_month in (7, 8, 9) else 0.002
        grads = np.where(hires_graduates, rng.poisson(np.maximum(headcount, 3) * season), 0)
        layoffs[:, t] = laid_off
        graduates[:, t] = grads
        headcount = np.maximum(headcount - laid_off - quits + hires + grads, 1)
    periods = first_period + np.arange(MONTHS)
    active = (periods[None, :] >= start[:, None]) & (periods[None, :] <= stop[:, None])
    firm, month = np.nonzero(active)
    noise = rng.normal(1.0, 0.02, firm.size)
    contribution = np.round(staff[firm, month] * wage_base_fen[firm] * EMPLOYER_RATE * noise)
    return dataset_frame(UI_CONTRIBUTION, ctx.as_of, {
        "uscc": chunk.uscc.gather(who[firm]),
        "period": period_series("period", periods[month]),
        "insured_headcount": staff[firm, month],
        "contribution_fen": contribution.astype(np.int64),
        "layoffs": layoffs[firm, month],
        "graduates_hired": graduates[firm, month],
    })
