"""Directional effects of strategy levers in the full model.

Each comparison runs both arms on the same seeds (common random numbers: replication k of
both arms uses ``SeedSequence([seed, 0, k])``) and applies a one-sided paired t-test
(``scipy.stats.ttest_rel``) at significance level ``ALPHA`` = 0.01; assertion messages give
the arm means, the mean paired difference, its standard deviation and the p-value. The
rule-based checks (taboo products, stop-loss) inspect every decision of several runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from experiments.files import load_scenario
from experiments.stats import totals
from sim.contract import MarketView, SelectionDecision
from sim.scenario import Scenario
from strategies import registry
from strategies.selection import StopLoss, ThreeFactor
from tests.helpers import new_model

ROOT = Path(__file__).resolve().parent.parent
PATHS = {
    "tiny": ROOT / "scenarios" / "tiny.yaml",
    "world": ROOT / "tests" / "data" / "strategy_world.yaml",
}
ALPHA = 0.01
Arm = tuple[tuple[str, str, str], ...]  # (kind, name, params as sorted JSON): hashable

NO_LEVERS = {"human_translation": False, "pay_ewallet": False, "pay_cod": False}


@cache
def scenario(key: str) -> Scenario:
    return load_scenario(PATHS[key])


def arm(**choices: tuple[str, dict[str, Any]]) -> Arm:
    """A hashable description of strategy choices: ``kind=(name, params)``."""
    return tuple(
        (kind, name, json.dumps(params, sort_keys=True)) for kind, (name, params) in choices.items()
    )


@cache
def run(key: str, strategies: Arm, seed: int, k: int, days: int) -> dict[str, dict[str, float]]:
    """KPI totals per region (and ALL) of replication ``k`` of one arm."""
    chosen = {kind: registry.create(kind, name, json.loads(p)) for kind, name, p in strategies}
    model = new_model(
        scenario(key),
        seed=np.random.SeedSequence([seed, 0, k]),
        days=days,
        strategies=chosen,
    )
    return totals(model.run())


def paired_greater(
    label: str, high: list[float], low: list[float], alpha: float = ALPHA
) -> tuple[float, float]:
    """Assert mean(high - low) > 0 by a one-sided paired t-test; return (mean diff, p)."""
    a, b = np.asarray(high, dtype=float), np.asarray(low, dtype=float)
    diff = a - b
    p = float(stats.ttest_rel(a, b, alternative="greater").pvalue)
    msg = (
        f"{label}: means {a.mean():.4g} vs {b.mean():.4g}, paired diff {diff.mean():.4g} "
        f"(sd {diff.std(ddof=1):.3g}, n={len(diff)}), one-sided p = {p:.2g} (alpha {alpha})"
    )
    print(msg)
    assert p < alpha, msg
    return float(diff.mean()), p


def metric(
    key: str, strategies: Arm, seed: int, reps: int, days: int, f: Callable[[dict], float]
) -> list[float]:
    return [f(run(key, strategies, seed, k, days)) for k in range(reps)]


def ratio(region: str, num: str, den: str) -> Callable[[dict], float]:
    return lambda t: t[region][num] / t[region][den]


# --------------------------------------------------------------------------- pricing
def test_higher_cost_plus_markup_raises_unit_margin_and_lowers_units() -> None:
    low = arm(pricing=("cost_plus", {"markup": 0.3}))
    high = arm(pricing=("cost_plus", {"markup": 1.0}))
    reps, days, seed = 8, 60, 101
    margin = ratio("ALL", "gross_profit_base", "units")  # gross profit per unit sold
    paired_greater(
        "gross profit per unit, markup 1.0 vs 0.3",
        metric("tiny", high, seed, reps, days, margin),
        metric("tiny", low, seed, reps, days, margin),
    )
    units = lambda t: t["ALL"]["units"]  # noqa: E731
    paired_greater(
        "units, markup 0.3 vs 1.0",
        metric("tiny", low, seed, reps, days, units),
        metric("tiny", high, seed, reps, days, units),
    )


# --------------------------------------------------------------------------- retention
def test_rfm_tiers_lowers_churn_and_costs_money() -> None:
    none, rfm = arm(), arm(retention=("rfm_tiers", {}))
    reps, days, seed = 12, 120, 102
    # customers lost: dropouts net of lapsed customers the offers won back
    churn = lambda t: t["ALL"]["churned_customers"] - t["ALL"]["reactivated_customers"]  # noqa: E731
    paired_greater(
        "customers lost, none vs rfm_tiers",
        metric("tiny", none, seed, reps, days, churn),
        metric("tiny", rfm, seed, reps, days, churn),
    )
    spend = metric("tiny", rfm, seed, reps, days, lambda t: t["ALL"]["retention_base"])
    assert min(spend) > 0, f"rfm_tiers spent {spend}"
    assert (
        metric("tiny", none, seed, reps, days, lambda t: t["ALL"]["retention_base"]) == [0.0] * reps
    )


# --------------------------------------------------------------------------- localization
LOCALIZATION_REPS, LOCALIZATION_DAYS, LOCALIZATION_SEED = 8, 60, 103


def localization_metric(choice: dict[str, Any] | None, f: Callable[[dict], float]) -> list[float]:
    strategies = arm(localization=("invest", {**NO_LEVERS, **choice})) if choice else arm()
    return metric("world", strategies, LOCALIZATION_SEED, LOCALIZATION_REPS, LOCALIZATION_DAYS, f)


def test_local_warehouse_lowers_mean_delivery_days() -> None:
    days = ratio("BR", "delivery_days_total", "deliveries")
    paired_greater(
        "BR mean delivery days, cross-border vs local warehouse",
        localization_metric(None, days),
        localization_metric({"per_region": {"BR": {"local_warehouse": True}}}, days),
    )


def test_cod_support_raises_conversion_in_cod_region() -> None:
    conv = ratio("BR", "units", "views")
    paired_greater(
        "BR conversion (units/views), with COD vs card only",
        localization_metric({"per_region": {"BR": {"payment_methods": ["cod"]}}}, conv),
        localization_metric(None, conv),
    )


def test_human_translation_raises_conversion() -> None:
    conv = ratio("ALL", "units", "views")
    paired_greater(
        "conversion (units/views), human vs machine translation",
        localization_metric({"human_translation": True}, conv),
        localization_metric(None, conv),
    )


# --------------------------------------------------------------------------- selection
class Recording:
    """Mixin recording every selection decision with the view it was made from."""

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.log: list[tuple[MarketView, SelectionDecision]] = []

    def decide(self, view: MarketView, rng: np.random.Generator) -> SelectionDecision:
        decision = super().decide(view, rng)  # type: ignore[misc]
        self.log.append((view, decision))
        return decision


class RecordingThreeFactor(Recording, ThreeFactor):
    pass


class RecordingStopLoss(Recording, StopLoss):
    pass


@pytest.mark.parametrize(
    "params",
    [{}, {"k": 2}, {"k": 3, "w_demand": 0.0, "w_competition": 0.0, "w_margin": 3.0}],
    ids=["default", "k2", "margin-only"],
)
def test_three_factor_never_lists_a_taboo_product(params: dict[str, Any]) -> None:
    sc = scenario("world")
    tags = {p.id: set(p.tags) for p in sc.products}
    taboo = {r.id: set(r.taboo_tags) for r in sc.regions}
    assert any(tags[p] & taboo["AE"] for p in tags), "the world needs a taboo product in AE"
    for k in range(3):
        strategy = RecordingThreeFactor(**params)
        model = new_model(
            sc,
            seed=np.random.SeedSequence([104, 0, k]),
            days=60,
            strategies={"selection": strategy},
        )
        model.run()
        assert len(strategy.log) == 9  # days 0, 7, ..., 56
        for view, decision in strategy.log:
            for rid, listed in decision.listed.items():
                products = [p for p, on in zip(view.product_ids, listed, strict=True) if on]
                assert products, f"day {view.day}: nothing listed in {rid}"
                bad = [p for p in products if tags[p] & taboo[rid]]
                assert not bad, f"day {view.day}: three_factor listed taboo {bad} in {rid}"


def test_stop_loss_delists_a_product_that_does_not_sell() -> None:
    """`gizmo` has the best paper margin (no competitor) but nobody buys it: top_margin
    keeps proposing it, stop_loss delists it after the review and lists another product."""
    sc = scenario("world")
    ids = [p.id for p in sc.products]
    gizmo = ids.index("gizmo")
    review = 30
    for k in range(3):
        strategy = RecordingStopLoss(
            choice="top_margin",
            inner_params={"k": 2},
            review_days=review,
            min_views=50,
            category_floor_base=1e6,  # gizmo is its category's only product: may go anyway
            keep_stocked=False,  # and its only product listed nowhere else
        )
        model = new_model(
            sc,
            seed=np.random.SeedSequence([105, 0, k]),
            days=70,
            strategies={"selection": strategy},
        )
        model.run()
        log = strategy.log
        _, first = log[0]
        for rid in (r.id for r in sc.regions):
            assert first.listed[rid][gizmo], f"top_margin should propose gizmo first in {rid}"
            stopped_on = [v.day for v, d in log if not d.listed[rid][gizmo]]
            assert stopped_on, f"rep {k}: gizmo never delisted in {rid}"
            day = stopped_on[0]
            assert day >= review, f"{rid}: delisted on day {day}, before the review"
            seen = next(v for v, _ in log if v.day == day).regions[rid]
            assert seen.views_recent[gizmo] >= 50, f"{rid}: judged on too few views"
            assert seen.conversion_recent[gizmo] < strategy.min_conversion, rid
            after = [d.listed[rid] for v, d in log if v.day >= day]
            assert not any(listed[gizmo] for listed in after), f"{rid}: gizmo relisted"
            assert all(listed.sum() == 2 for listed in after), f"{rid}: slot not refilled"
            replacements = {ids[j] for listed in after for j in np.flatnonzero(listed)}
            print(f"rep {k} {rid}: gizmo delisted on day {day}; listed after: {replacements}")
