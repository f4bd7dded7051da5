"""Paired CRN runs for the fact and lever tables: scenario variants, a scaled market slice,
and per-run statistics (the daily KPI table plus repeat-purchase figures from the order log).

Replication ``k`` of every variant uses ``SeedSequence([seed, 0, k])`` (the rule of
``marketsim run --reps``), so differences between variants are paired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.executors import Executor
from sim.calendar import DAYS_PER_YEAR
from sim.scenario import Scenario

#: a trial pack "converts" when its buyer orders again within this many days (a quarter)
TRIAL_WINDOW_DAYS = 90
#: scenario edits that build a variant; None when the variant does not apply to a scenario
VariantBuilder = Callable[[Scenario], "Scenario | None"]


def edit_scenario(
    scenario: Scenario, edit: Callable[[dict[str, Any]], Any], label: str
) -> Scenario:
    """A validated copy of ``scenario`` after ``edit`` changed its data (a mapping)."""
    from sim.validation import parse_scenario
    from strategies.registry import scenario_strategy_problems

    data = scenario.model_dump(mode="json")
    edit(data)
    return parse_scenario(
        data, f"{scenario.name} ({label})", check_strategies=scenario_strategy_problems
    )


def _scale_amounts(mapping: dict[str, Any], factor: float) -> None:
    """Firm-level amounts (``*_base``) times ``factor``; rates per unit, per unit-day, per
    contact or per order (``*_per_*_base``) are per-consumer economics and stay."""
    for key, value in mapping.items():
        if key.endswith("_base") and "_per_" not in key and isinstance(value, int | float):
            mapping[key] = value * factor


def scale_market(data: dict[str, Any], factor: float) -> None:
    """Shrink a scenario to a slice of its market: populations, stock and every firm-level
    amount (marketing and channel budgets, fixed, compliance, localization, warehouse,
    per-shipment, cash and credit) times ``factor``; marketing's awareness effect per 1k spend
    divided by it and each channel's half-saturation spend times it, so that awareness follows
    the same curve. Per-consumer economics (prices, unit costs, fees, holding per unit-day) are
    unchanged."""
    from experiments.acquisition import scale_marketing

    for region in data["regions"]:
        _scale_region(region, factor)
    scale_marketing(data, factor)  # the single budget and every channel's
    _scale_firm(data["firm"], factor)
    for lane in data.get("lanes") or []:
        if "cost_per_shipment_base" in lane:
            lane["cost_per_shipment_base"] *= factor


def _scale_region(region: dict[str, Any], factor: float) -> None:
    """A region's population and compliance amounts x factor, awareness per consumer kept."""
    region["population"] = max(1, round(region["population"] * factor))
    awareness = region.get("awareness") or {}
    if awareness.get("p_per_1k_spend_daily"):
        awareness["p_per_1k_spend_daily"] /= factor
    _scale_amounts(region.get("regulation") or {}, factor)
    for channel in ((region.get("acquisition") or {}).get("channels") or {}).values():
        if "half_saturation_daily_base" in channel:  # same response curve per consumer
            channel["half_saturation_daily_base"] *= factor


def _scale_firm(firm: dict[str, Any], factor: float) -> None:
    """The firm's amounts, launch stock, team (same size), warehouses and stock policy."""
    _scale_amounts(firm, factor)
    _scale_amounts(firm.get("localization_costs") or {}, factor)
    _scale_amounts(firm.get("finance") or {}, factor)
    launch = firm.get("launch") or {}
    _scale_amounts(launch, factor)
    if launch.get("stock_units"):
        launch["stock_units"] = max(1, round(launch["stock_units"] * factor))
    if firm.get("staffing"):  # the same team size: its cost and its orders per head x factor
        _scale_amounts(firm["staffing"], factor)
        firm["staffing"]["orders_per_staff_monthly"] *= factor
    for wh in firm.get("warehouses") or []:
        _scale_amounts(wh, factor)
        wh["initial_units"] = round(wh.get("initial_units", 0) * factor)
        by_product = wh.get("initial_units_by_product") or {}
        for product_id, units in by_product.items():
            by_product[product_id] = round(units * factor)
    for policy in firm.get("inventory_policy") or []:
        policy["reorder_point"] = round(policy["reorder_point"] * factor)
        policy["order_quantity"] = max(1, round(policy["order_quantity"] * factor))


@dataclass(frozen=True)
class CheckTask:
    """One replication of one variant."""

    variant: str
    scenario: Scenario
    rep: int
    seed: int
    days: int
    window_days: int


@dataclass(frozen=True)
class RunStats:
    """What one replication gives the fact and lever measures.

    Attributes:
        kpis: the daily KPI table (one row per day and region, plus ALL).
        repeat: per region id and ``ALL``: ``cohort`` (customers whose first order came at
            least ``window_days`` before the horizon), ``repeaters`` (of them, those who
            ordered again within ``window_days`` of their first order).
    """

    variant: str
    rep: int
    window_days: int
    kpis: pd.DataFrame
    repeat: dict[str, dict[str, float]]
    listings: pd.DataFrame | None = None  # one row per listing launched (sim.fit)
    offers: pd.DataFrame = field(default_factory=pd.DataFrame)  # sim.retention_state table
    #: trial-pack regions' orders: cohort and repeaters within TRIAL_WINDOW_DAYS (as repeat)
    trial: dict[str, float] = field(default_factory=dict)
    #: the customers a lever acts on (experiments.check.touched)
    touched: dict[str, float] = field(default_factory=dict)


def repeat_statistics(
    region: np.ndarray, consumer: np.ndarray, day: np.ndarray, days: int, window_days: int
) -> dict[str, float]:
    """Cohort and repeaters within the window of one set of orders."""
    if len(day) == 0:
        return {"cohort": 0.0, "repeaters": 0.0}
    key = region.astype(np.int64) * (2**40) + consumer.astype(np.int64)
    order = np.lexsort((day, key))
    key, day = key[order], day[order].astype(np.int64)
    first = np.r_[True, key[1:] != key[:-1]]
    same_next = np.r_[key[1:] == key[:-1], False]
    first_idx = np.flatnonzero(first)
    has_second = same_next[first_idx]
    second_day = np.where(has_second, day[np.minimum(first_idx + 1, len(day) - 1)], -1)
    in_cohort = day[first_idx] < days - window_days
    repeated = has_second & (second_day - day[first_idx] <= window_days)
    return {
        "cohort": float(in_cohort.sum()),
        "repeaters": float((in_cohort & repeated).sum()),
    }


def run_check_task(task: CheckTask) -> RunStats:
    """Run one replication (in a worker process) and summarise its order log."""
    from experiments.check.touched import group_statistics
    from experiments.replications import build_model

    seed = np.random.SeedSequence([task.seed, 0, task.rep])
    model = build_model(task.scenario, seed, task.days)
    kpis = model.run()
    book = model.firm.orders
    region = book.column("region").astype(np.int64)
    consumer, day = book.column("consumer"), book.column("day")
    repeat = {"ALL": repeat_statistics(region, consumer, day, task.days, task.window_days)}
    for r, rid in enumerate(model.region_ids):
        mine = region == r
        repeat[rid] = repeat_statistics(
            region[mine], consumer[mine], day[mine], task.days, task.window_days
        )
    listings = model.fit.listing_table()
    trial = {}
    if model.trials.active.any():
        mine = model.trials.active[region]
        trial = repeat_statistics(
            region[mine], consumer[mine], day[mine], task.days, TRIAL_WINDOW_DAYS
        )
    return RunStats(
        task.variant,
        task.rep,
        task.window_days,
        kpis,
        repeat,
        listings=listings,
        offers=model.offers.table(),
        trial=trial,
        touched=group_statistics(model, kpis, task.days, task.window_days),
    )


def plan_tasks(
    variants: Mapping[str, Scenario],
    reps: int | Mapping[str, int],
    *,
    seed: int,
    days: int,
    window_days: int,
    start: Mapping[str, int] | None = None,
) -> tuple[list[CheckTask], dict[str, str]]:
    """The tasks :func:`run_variants` submits, in its order (replication-major), and for each
    variant the earlier variant with an equal scenario whose runs it reuses (itself if none).
    ``start``: per variant, the first replication to run (default 0; more replications of
    runs already made)."""
    first: dict[str, str] = {}
    unique: dict[str, Scenario] = {}
    for name, sc in variants.items():
        first[name] = next((u for u, usc in unique.items() if usc == sc), name)
        unique.setdefault(first[name], sc)
    count = dict.fromkeys(variants, reps) if isinstance(reps, int) else dict(reps)
    need = {u: max(count[n] for n in variants if first[n] == u) for u in unique}
    begin = {u: min((start or {}).get(n, 0) for n in variants if first[n] == u) for u in unique}
    tasks = [
        CheckTask(name, sc, k, seed, days, window_days)
        for k in range(max(need.values(), default=0))
        for name, sc in unique.items()
        if begin[name] <= k < need[name]
    ]
    return tasks, first


def run_variants(
    variants: Mapping[str, Scenario],
    reps: int | Mapping[str, int],
    *,
    seed: int,
    days: int,
    window_days: int,
    executor: Executor,
    start: Mapping[str, int] | None = None,
) -> dict[str, list[RunStats]]:
    """Every variant x replication; per variant, the runs in replication order. ``reps``
    is one count for every variant or a count per variant (replication k of each uses the
    same seed, so the first runs of a longer list stay paired with a shorter one's).

    A variant whose scenario equals an earlier one's (e.g. the ``rfm_tiers`` fact variant and
    the ``retention=rfm_tiers`` lever) reuses its runs: a run depends only on the scenario,
    the seed and the replication, so running it twice would give the same table.
    ``start``: per variant, the first replication to run (default 0: replications ``start``
    to ``reps - 1`` extend earlier runs of the same seed and stay paired with them).
    """
    tasks, first = plan_tasks(
        variants, reps, seed=seed, days=days, window_days=window_days, start=start
    )
    ran: dict[str, list[RunStats]] = {name: [] for name in set(first.values())}
    for _, stats in executor.map_unordered(run_check_task, tasks):
        ran[stats.variant].append(stats)
    for runs in ran.values():
        runs.sort(key=lambda s: s.rep)
    return {name: ran[first[name]] for name in variants}


# ----------------------------------------------------------------------------- per-run figures
def rows(stats: RunStats, regions: Iterable[str] = ("ALL",), first_day: int = 0) -> pd.DataFrame:
    """The KPI rows of ``regions`` from ``first_day`` on."""
    k = stats.kpis
    return k[k["region"].isin(list(regions)) & (k["day"] >= first_day)]


def churn_per_customer_year(stats: RunStats) -> float:
    """Customers lost per customer-year alive (firm-wide): churned customers net of lapsed
    ones won back by offers, over the sum of daily alive customers (acquired so far minus
    lost so far) / 365."""
    k = rows(stats).sort_values("day")
    lost = k["churned_customers"].to_numpy() - k["reactivated_customers"].to_numpy()
    alive = k["customers"].to_numpy() - np.cumsum(lost)
    years = alive.sum() / DAYS_PER_YEAR
    return float(lost.sum() / years) if years > 0 else np.nan


def ratio(stats: RunStats, num: str, den: str, regions: Iterable[str] = ("ALL",)) -> float:
    """Summed ``num`` over summed ``den`` in ``regions`` (NaN when the denominator is 0)."""
    k = rows(stats, regions)
    d = float(k[den].sum())
    return float(k[num].sum()) / d if d else np.nan


def total(
    stats: RunStats, kpi: str, regions: Iterable[str] = ("ALL",), before_day: int | None = None
) -> float:
    """Total of a flow KPI in ``regions`` over the run (or its days before ``before_day``)."""
    k = rows(stats, regions)
    if before_day is not None:
        k = k[k["day"] < before_day]
    return float(k[kpi].sum())


def repeat_rate(stats: RunStats, regions: Iterable[str] = ("ALL",)) -> float:
    """Share of the cohort that ordered again within the window (see :class:`RunStats`)."""
    cohort = sum(stats.repeat[r]["cohort"] for r in regions)
    return sum(stats.repeat[r]["repeaters"] for r in regions) / cohort if cohort else np.nan


def alive_cycle_days(stats: RunStats, regions: Iterable[str] = ("ALL",)) -> float:
    """Days an alive customer takes per order with us (the repurchase cycle): alive
    customer-days (KPI ``customer_years`` x 365) / ``repeat_orders``. Every alive day counts,
    including the days after a customer's last order, so a cycle longer than what is left of
    the run is not cut off (the mean observed gap between consecutive orders was: only gaps
    that ended inside the run were seen, mostly fast buyers', see
    ``benchmarks/gap_censoring.py``). For a Poisson buyer this is the rate's maximum-likelihood
    inverse (events / exposure); a customer who dropped out stops counting (BG/NBD's dropout
    is not a long gap). NaN without a repeat order."""
    k = rows(stats, regions)
    repeat = float(k["repeat_orders"].sum())
    return float(k["customer_years"].sum()) * DAYS_PER_YEAR / repeat if repeat else np.nan
