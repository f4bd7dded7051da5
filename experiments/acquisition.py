"""Marketing experiments on paired CRN runs: budget multipliers, incremental customers per channel.

Replication ``k`` of every scenario variant uses ``SeedSequence([seed, 0, k])`` (the rule of
``marketsim run --reps`` and ``marketsim check``), so each effect is a paired difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from experiments.check.runs import edit_scenario
from experiments.stats import mean_ci
from sim.scenario import MAX_MAGNITUDE, BudgetRule, Scenario


def scale_marketing(data: dict[str, Any], factor: float) -> None:
    """Multiply every marketing budget of a scenario's data (the firm's single budget, each
    region's channel budgets and its budget rule's floor and cap) by ``factor`` in place."""
    budget = data["firm"].get("marketing_budget_monthly_base") or {}
    for region_id, amount in budget.items():
        budget[region_id] = (
            [x * factor for x in amount] if isinstance(amount, list) else amount * factor
        )
    for region in data["regions"]:
        for ch in ((region.get("acquisition") or {}).get("channels") or {}).values():
            amount = ch.get("budget_monthly_base", 0.0)
            ch["budget_monthly_base"] = (
                [x * factor for x in amount] if isinstance(amount, list) else amount * factor
            )
        rule = (region.get("acquisition") or {}).get("budget_rule") or {}
        for key in ("floor_monthly_base", "cap_monthly_base"):
            if key in rule:  # the default cap (no cap) stays within the schema's bound
                rule[key] = min(rule[key] * factor, MAX_MAGNITUDE)


def with_marketing(scenario: Scenario, factor: float) -> Scenario:
    """The scenario with every marketing budget times ``factor`` (0: no marketing), a budget
    rule's share of revenue included."""

    def edit(d: dict[str, Any]) -> None:
        scale_marketing(d, factor)
        for region in d["regions"]:
            rule = (region.get("acquisition") or {}).get("budget_rule") or {}
            if rule.get("kind") == "share_of_revenue":
                rule["share"] = min(1.0, rule.get("share", BudgetRule().share) * factor)

    return edit_scenario(scenario, edit, f"marketing x{factor:g}")


def without_channel(scenario: Scenario, region_id: str, channel: str) -> Scenario:
    """The scenario with one channel's budget in one region set to 0 (``channel`` is a
    channel name, or ``marketing`` for the firm's single budget)."""

    def edit(d: dict[str, Any]) -> None:
        if channel == "marketing":
            d["firm"].get("marketing_budget_monthly_base", {}).pop(region_id, None)
            return
        region = next(r for r in d["regions"] if r["id"] == region_id)
        region["acquisition"]["channels"][channel]["budget_monthly_base"] = 0.0

    return edit_scenario(scenario, edit, f"{region_id} without {channel}")


def paid_channels(scenario: Scenario) -> list[tuple[str, str]]:
    """(region id, channel) of every channel with a budget, the single budget as ``marketing``."""
    out = [(r, "marketing") for r in scenario.firm.marketing_budget_monthly_base]
    for region in scenario.regions:
        out += [
            (region.id, name)
            for name, ch in region.acquisition.channels.items()
            if np.any(np.asarray(ch.budget_monthly_base) > 0)
        ]
    return out


def run_paired(
    scenarios: Mapping[str, Scenario], reps: int, days: int, seed: int
) -> dict[str, list[pd.DataFrame]]:
    """The ``ALL``-and-region KPI tables of ``reps`` paired replications of each scenario."""
    from experiments.executors import run_and_collect
    from experiments.replications import build_model

    def one(task: tuple[Scenario, int]) -> pd.DataFrame:
        sc, k = task
        return build_model(sc, np.random.SeedSequence([seed, 0, k]), days).run()

    out: dict[str, list[pd.DataFrame]] = {name: [] for name in scenarios}
    for k in range(reps):
        for name, sc in scenarios.items():  # each model freed before the next is built
            out[name].append(run_and_collect(one, (sc, k)))
    return out


def _total(frame: pd.DataFrame, kpi: str, region: str = "ALL") -> float:
    return float(frame.loc[frame["region"] == region, kpi].sum())


def budget_curve(
    scenario: Scenario, factors: list[float], reps: int = 5, days: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Net profit per marketing multiplier, with the paired difference to the scenario's own
    budget (factor 1) and its 95% CI."""
    days = days or scenario.horizon_days
    variants = {f"x{f:g}": with_marketing(scenario, f) for f in factors}
    variants["x1"] = scenario
    runs = run_paired(variants, reps, days, seed)
    base = np.array([_total(k, "net_profit_base") for k in runs["x1"]])
    rows = []
    for f in sorted(set(factors) | {1.0}):
        profit = np.array([_total(k, "net_profit_base") for k in runs[f"x{f:g}"]])
        ci = mean_ci(profit - base)
        rows.append(
            {
                "factor": f,
                "net_profit_base": float(profit.mean()),
                "vs_x1": ci["mean"],
                "vs_x1_low": ci["low"],
                "vs_x1_high": ci["high"],
                "new_customers": float(
                    np.mean([_total(k, "new_customers") for k in runs[f"x{f:g}"]])
                ),
                "marketing_base": float(
                    np.mean([_total(k, "marketing_base") for k in runs[f"x{f:g}"]])
                ),
            }
        )
    return pd.DataFrame(rows)


def incremental_customers(
    scenario: Scenario, reps: int = 5, days: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Per channel: new customers it adds (scenario - scenario without that channel, paired
    CRN, 95% CI), its spend, its incremental CAC and the customers tagged to it."""
    days = days or scenario.horizon_days
    channels = paid_channels(scenario)
    variants: dict[str, Scenario] = {"baseline": scenario}
    for region_id, channel in channels:
        variants[f"{region_id}/{channel}"] = without_channel(scenario, region_id, channel)
    runs = run_paired(variants, reps, days, seed)
    base = runs["baseline"]
    rows = []
    for region_id, channel in channels:
        off = runs[f"{region_id}/{channel}"]
        diff = np.array(
            [
                _total(b, "new_customers", region_id) - _total(v, "new_customers", region_id)
                for b, v in zip(base, off, strict=True)
            ]
        )
        spend = np.mean(
            [
                _total(b, "marketing_base", region_id) - _total(v, "marketing_base", region_id)
                for b, v in zip(base, off, strict=True)
            ]
        )
        ci = mean_ci(diff)
        rows.append(
            {
                "region": region_id,
                "channel": channel,
                "incremental_customers": ci["mean"],
                "low": ci["low"],
                "high": ci["high"],
                "spend_base": float(spend),
                "incremental_cac_base": float(spend / ci["mean"]) if ci["mean"] > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def tune_budget(
    scenario: Scenario,
    low: float = 0.0,
    high: float = 4.0,
    trials: int = 12,
    reps: int = 3,
    days: int | None = None,
    seed: int = 0,
) -> tuple[float, pd.DataFrame]:
    """Optuna (TPE, seeded) search of the marketing multiplier maximizing mean net profit;
    every trial runs the same ``reps`` replications (common random numbers). Returns the
    best multiplier and the trials (multiplier, mean net profit)."""
    import optuna

    days = days or scenario.horizon_days
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        factor = trial.suggest_float("factor", low, high)
        runs = run_paired({"x": with_marketing(scenario, factor)}, reps, days, seed)["x"]
        return float(np.mean([_total(k, "net_profit_base") for k in runs]))

    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    )
    study.enqueue_trial({"factor": 1.0})  # the scenario's own budget is always a trial
    study.optimize(objective, n_trials=trials)
    table = pd.DataFrame(
        {
            "factor": [t.params["factor"] for t in study.trials],
            "net_profit_base": [t.value for t in study.trials],
        }
    )
    return float(study.best_params["factor"]), table.sort_values("factor").reset_index(drop=True)
