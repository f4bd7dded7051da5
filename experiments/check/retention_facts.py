"""Retention facts: RFM tiers' win-back shares measured from the offers each run tracked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from experiments.check.fact_types import FactContext, Measurement
    from experiments.check.runs import RunStats

#: DOMAIN: risk 70-85 care offer ~28 %, 86-95 compensation coupon ~41 %, > 95 personalised ~62 %
RFM_WIN_BACK = {"care": 0.28, "coupon": 0.41, "personal": 0.62}
RFM_VARIANT = "rfm_tiers"


def rfm_runs(ctx: FactContext) -> list[RunStats]:
    """Runs with ``rfm_tiers`` at its defaults: the ``rfm_tiers`` variant's, or the
    baseline's when the scenario already uses the strategy."""
    from experiments.check.facts import NotMeasurable

    if RFM_VARIANT in ctx.runs:
        return ctx.runs[RFM_VARIANT]
    if ctx.scenario.strategies.retention.name == "rfm_tiers":
        return ctx.runs["baseline"]
    raise NotMeasurable("the rfm_tiers variant was not run")


def win_back_rates(offers: pd.DataFrame, tiers: dict[str, float]) -> dict[str, float]:
    """Won back / resolved contacts per tier over all regions (NaN for a tier never resolved)."""
    out = {}
    for tier in tiers:
        rows = offers[offers["action"] == tier] if len(offers) else offers
        resolved = float(rows["won_back"].sum() + rows["not_won_back"].sum()) if len(rows) else 0
        out[tier] = float(rows["won_back"].sum()) / resolved if resolved else np.nan
    return out


def rfm_win_back(ctx: FactContext) -> Measurement:
    """Per replication, the worst tier's distance (absolute) from its DOMAIN win-back share."""
    from experiments.check.facts import Measurement, NotMeasurable

    per_run = [win_back_rates(s.offers, RFM_WIN_BACK) for s in rfm_runs(ctx)]
    rates = pd.DataFrame(per_run)
    if rates.isna().all(axis=None):
        raise NotMeasurable("no rfm_tiers offer's window closed within the run")
    targets = pd.Series(RFM_WIN_BACK)
    worst = (rates - targets).abs().max(axis=1).to_numpy()
    note = ", ".join(
        f"{t} {rates[t].mean():.1%} (DOMAIN {RFM_WIN_BACK[t]:.0%})" for t in RFM_WIN_BACK
    )
    return Measurement(worst, f"won back within the offer window: {note}")


def trial_conversion(ctx: FactContext) -> Measurement:
    """Share of trial-pack buyers (first-time buyers while a trial pack is on) whose second
    order came within TRIAL_WINDOW_DAYS, among those whose first order was that long before
    the horizon."""
    from experiments.check.facts import Measurement, NotMeasurable
    from experiments.check.runs import TRIAL_WINDOW_DAYS

    side = ctx.runs.get("trial_pack")
    if side is None:
        side = ctx.runs["baseline"] if ctx.scenario.firm.trial_pack is not None else None
    if side is None:
        raise NotMeasurable("the trial_pack variant was not run")
    values = np.array(
        [
            s.trial["repeaters"] / s.trial["cohort"] if s.trial.get("cohort") else np.nan
            for s in side
        ]
    )
    return Measurement(values, f"second order within {TRIAL_WINDOW_DAYS} days of the trial pack")
