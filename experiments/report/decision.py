"""The decision in numbers and words: verdicts, headlines and P&L waterfalls (pure functions).

Shared by the report's first screen and the app; no plotting, no I/O. Every number comes
from per-replication horizon totals (``replications.csv`` / ``Comparison.per_rep``), paired
by replication (common random numbers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.outputs import kpi_label
from experiments.pnl import pnl_lines
from experiments.stats import better_sign, mean_ci
from sim.calendar import DAYS_PER_YEAR
from sim.kpis import KPI_BY_NAME

P_BEST_DEFINITION = (
    "P(best) is the probability that an option has the best mean over replications, "
    "estimated by resampling the paired replications (bootstrap); the ranking is by mean, so "
    "the leader has the largest P(best) unless two are nearly tied."
)


def money(value: float, currency: str) -> str:
    """An amount as text: ``USD 12,345`` (``-`` when not finite)."""
    if not np.isfinite(value):
        return "-"
    return f"{currency} {value:,.0f}"


def kpi_amount(value: float, kpi: str, currency: str) -> str:
    """A KPI value with its unit: money in the currency, shares in %, counts plain."""
    unit = KPI_BY_NAME[kpi].unit
    if not np.isfinite(value):
        return "-"
    if unit == "base":
        return money(value, currency)
    if unit == "share":
        return f"{value:.1%}"
    return f"{value:,.1f} {unit}" if abs(value) < 100 else f"{value:,.0f} {unit}"


def plus_minus(value: float, half_width: float, kpi: str, currency: str) -> str:
    """``USD 4,089 ± 1,367``: the value with its unit, the half-width without it."""
    pm = kpi_amount(half_width, kpi, currency).removeprefix(f"{currency} ")
    return f"{kpi_amount(value, kpi, currency)} ± {pm}"


def yearly_factor(kpi: str, days: int) -> float:
    """Scale from a horizon total to a yearly figure (flows only; 1 for stocks and ratios)."""
    return DAYS_PER_YEAR / days if KPI_BY_NAME[kpi].aggregation == "sum" and days > 0 else 1.0


@dataclass(frozen=True)
class Verdict:
    """A variant against the baseline on one KPI, paired by replication.

    ``gain_*`` are in the KPI's better direction (positive = the variant is better), per
    year for flow KPIs; ``share_better`` is the share of replications where it is better.
    """

    variant: str
    baseline: str
    kpi: str
    currency: str
    gain_mean: float
    gain_half_width: float
    share_better: float
    reps: int
    per_year: bool

    @property
    def clear(self) -> bool:
        """Whether the 95% CI of the gain excludes zero."""
        return bool(np.isfinite(self.gain_half_width)) and abs(self.gain_mean) > (
            self.gain_half_width
        )

    def text(self) -> str:
        """One plain sentence: who beats whom, by how much +- what, how often."""
        amount = plus_minus(abs(self.gain_mean), self.gain_half_width, self.kpi, self.currency)
        verb = "beats" if self.gain_mean > 0 else "trails" if self.gain_mean < 0 else "ties"
        span = " per year" if self.per_year else ""
        head = f"{self.variant} {verb} {self.baseline} by {amount}{span}"
        head += f" on {kpi_label(self.kpi)} (95% CI)"
        often = f"better in {self.share_better:.0%} of {self.reps} paired replications"
        if not self.clear:
            return f"{head}; {often}. The CI includes zero: not a clear difference."
        return f"{head}; {often}."


def verdict(
    per_rep: pd.DataFrame,
    variant: str,
    baseline: str,
    kpi: str,
    days: int,
    currency: str,
    region: str = "ALL",
    key: str = "variant",
) -> Verdict:
    """The paired verdict of ``variant`` against ``baseline`` from per-replication totals."""
    data = per_rep[per_rep["region"] == region] if "region" in per_rep else per_rep
    wide = data.pivot(index="rep", columns=key, values=kpi)[[variant, baseline]].dropna()
    sign = better_sign(kpi) or 1.0
    diff = sign * (wide[variant] - wide[baseline]).to_numpy(dtype=float)
    factor = yearly_factor(kpi, days)
    ci = mean_ci(diff * factor)
    return Verdict(
        variant,
        baseline,
        kpi,
        currency,
        float(ci["mean"]),
        float(ci["half_width"]),
        float(np.mean(diff > 0)) if len(diff) else float("nan"),
        len(diff),
        factor != 1.0,
    )


@dataclass(frozen=True)
class Headline:
    """The first screen of a report: what to do, and how sure it is."""

    recommendation: str
    sure: str
    change: str
    p_best_definition: str = P_BEST_DEFINITION

    def lines(self) -> list[str]:
        """The headline's sentences in reading order."""
        return [self.recommendation, self.sure, self.change]


def compare_headline(
    per_rep: pd.DataFrame,
    ranking: pd.DataFrame,
    baseline: str,
    kpi: str,
    days: int,
    currency: str,
) -> Headline:
    """Recommendation from a comparison: the leader, its gain over the baseline, P(best), and
    how far the runner-up is (what would change the ranking)."""
    ranked = ranking.sort_values("rank", kind="stable")
    best = ranked.iloc[0]
    name, p_best = str(best["variant"]), float(best["p_best"])
    label = kpi_label(kpi)
    if name == baseline:
        recommendation = f"Keep {baseline}: no variant has a better mean {label}."
    else:
        v = verdict(per_rep, name, baseline, kpi, days, currency)
        recommendation = f"Recommended: {name}. {v.text()}"
    sure = f"P(best) of {name}: {p_best:.0%} over {int(best['n'])} replications."
    if len(ranked) < 2:
        return Headline(recommendation, sure, "Only one variant: nothing to rank against.")
    runner = str(ranked.iloc[1]["variant"])
    gap = verdict(per_rep, name, runner, kpi, days, currency)
    gap_text = plus_minus(gap.gain_mean, gap.gain_half_width, kpi, currency)
    if gap.clear:
        change = (
            f"Its lead over the runner-up {runner} is {gap_text}{' per year' * gap.per_year}, "
            "clear of noise at 95%: only a change in the scenario's assumptions would swap them."
        )
    else:
        change = (
            f"The runner-up {runner} is within noise ({gap_text}"
            f"{' per year' * gap.per_year}): more replications could swap them "
            "(compare --precision)."
        )
    return Headline(recommendation, sure, change)


def entry_headline(options: pd.DataFrame, per_rep: pd.DataFrame, currency: str) -> Headline:
    """Recommendation from ranked entry options: best NPV, its CI and risk, the runner-up."""
    ranked = options.sort_values("rank", kind="stable")
    best = ranked.iloc[0]
    name = str(best["option"])
    lead = "Recommended entry" if best["npv_mean"] >= 0 else "No option pays back; least bad"
    recommendation = (
        f"{lead}: {name} ({best['regions']}): NPV {money(best['npv_mean'], currency)}"
        f" (95% CI {money(best['npv_low'], currency)} to {money(best['npv_high'], currency)})."
    )
    sure = (
        f"P(loss) {float(best['p_loss']):.0%}; mean of the worst 5% profits "
        f"{money(best['cvar5_profit'], currency)}; {int(best['reps'])} replications."
    )
    if len(ranked) < 2:
        return Headline(recommendation, sure, "Only one option: nothing to rank against.")
    runner = str(ranked.iloc[1]["option"])
    wide = per_rep.pivot(index="rep", columns="option", values="npv_base")[[name, runner]]
    ci = mean_ci((wide[name] - wide[runner]).dropna())
    gap = plus_minus(ci["mean"], ci["half_width"], "net_profit_base", currency)
    if np.isfinite(ci["half_width"]) and abs(ci["mean"]) > ci["half_width"]:
        change = f"Its NPV lead over {runner} is {gap}, clear of noise at 95%."
    else:
        change = f"{runner} is within noise of it (NPV difference {gap}): more replications "
        change += "could swap them."
    return Headline(recommendation, sure, change, "")


def waterfall(totals: Mapping[str, float]) -> list[tuple[str, float]]:
    """P&L steps from revenue to net profit for one region's horizon totals.

    The lines of the P&L statement (:func:`experiments.pnl.pnl_lines`) from revenue (net of
    VAT) on: ``(label, amount)`` with costs negative, the ``gross profit`` subtotal and
    ``net profit`` last (equal to ``net_profit_base``).
    """
    lines = pnl_lines(totals)
    first = next(i for i, (kpi, _, _) in enumerate(lines) if kpi == "revenue_base")
    return [(SHORT_LABELS.get(kpi, label), amount) for kpi, label, amount in lines[first:]]


# short labels for the chart's axis (the statement's own labels are long)
SHORT_LABELS = {
    "revenue_base": "revenue",
    "gross_profit_base": "gross profit",
    "net_profit_base": "net profit",
}
