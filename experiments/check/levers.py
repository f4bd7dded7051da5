"""Lever directions: each built-in strategy (and two planner levers) against the scenario's
default on paired CRN replications, with the KPI DOMAIN or issue 12 says it should move (or
the one the scenario states for itself: its ``lever_expectations``).

A lever passes when the 95% CI of its paired effect lies entirely on the expected side of
zero; an effect of the wrong sign, or one not distinguishable from zero, fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from experiments.check import runs, touched, variants
from experiments.check.runs import RunStats, VariantBuilder
from experiments.stats import mean_ci

if TYPE_CHECKING:
    from sim.scenario import Scenario

Metric = Callable[[RunStats], float]
#: days from entry over which the penetration row counts new customers
LAUNCH_WINDOW_DAYS = 120
METRICS: dict[str, Metric] = {
    "net_profit_base": lambda s: runs.total(s, "net_profit_base"),
    "churn_per_customer_year": runs.churn_per_customer_year,
    "new_customers": lambda s: runs.total(s, "new_customers"),
    # the launch window of a penetration discount (60 days) with two months to spare
    "new_customers_first_120d": lambda s: runs.total(
        s, "new_customers", before_day=LAUNCH_WINDOW_DAYS
    ),
    "conversion_rate": lambda s: runs.ratio(s, "orders", "views"),
    # (revenue - refunds - duty - COGS - freight) / revenue: what a price war squeezes
    "gross_margin": lambda s: runs.ratio(s, "gross_profit_base", "revenue_base"),
    "market_share": lambda s: runs.ratio(s, "orders", "market_units"),
    # what a buyer pays us a unit (net of VAT, duty included): where a pricing lever moves
    "price_per_unit_base": lambda s: runs.ratio(s, "revenue_base", "units"),
    "order_value_base": lambda s: runs.ratio(s, "gmv_base", "orders"),
    "orders_per_customer_year": lambda s: runs.ratio(s, "orders", "customer_years"),
    # the groups a lever touches (experiments.check.touched): first-year repeat buyers and
    # first-year buyers of a late or lost parcel, lost by the horizon; the warehouse's regions
    "repeat_customers_lost": lambda s: touched.share(s.touched, "repeat_lost", "repeat_cohort"),
    "late_buyers_lost": lambda s: touched.share(s.touched, "late_lost", "late_cohort"),
    "late_buyers_satisfaction": lambda s: touched.share(
        s.touched, "late_satisfaction_sum", "late_cohort"
    ),
    "served_repeat_orders_per_customer_year": lambda s: touched.share(
        s.touched, "served_repeat_orders", "served_customer_years"
    ),
    "served_churn_per_customer_year": lambda s: touched.share(
        s.touched, "served_lost", "served_customer_years"
    ),
}
#: lever KPIs that are shares (their effects print in percentage points)
SHARE_KPIS = frozenset(
    {
        "churn_per_customer_year",
        "conversion_rate",
        "gross_margin",
        "market_share",
        "repeat_customers_lost",
        "late_buyers_lost",
        "served_churn_per_customer_year",
    }
)


@dataclass(frozen=True)
class Premise:
    """What must hold, paired against the baseline, for an expectation to apply: ``kpi``
    moves with ``sign`` (its CI on that side of zero), e.g. "the lever prices under what the
    baseline charges". Where it does not hold the row is shown without a verdict."""

    kpi: str
    sign: int
    text: str


@dataclass(frozen=True)
class Expectation:
    """The KPI a lever should move, the sign (+1 up, -1 down; 0: the evidence states no
    direction, the effect is shown without a verdict) and where that comes from."""

    kpi: str
    sign: int
    source: str
    #: stated by the scenario (``lever_expectations``), replacing the built-in statement
    by_scenario: bool = False
    #: the condition the evidence assumes (None: it always applies)
    premise: Premise | None = None


#: a scenario's ``direction`` -> the sign of an :class:`Expectation`
SIGNS = {"up": 1, "down": -1, "none": 0}


#: (kind, strategy name) -> what it should do; built-ins missing here state no direction
EXPECTED: dict[tuple[str, str], Expectation] = {
    ("pricing", "competitive_index"): Expectation(
        "market_share",
        1,
        "DOMAIN: pricing under the incumbents wins share (judged where the index prices "
        "under the baseline: where our own prices are already far under the rivals', "
        "0.95 x theirs is a price rise)",
        premise=Premise("price_per_unit_base", -1, "the index prices under the baseline"),
    ),
    ("pricing", "penetration"): Expectation(
        "new_customers_first_120d",
        1,
        "theory (logit: a lower price converts more while it lasts): the launch discount "
        "(30% at listing, gone by day 60; the ramp ends at the baseline's own markup, so only "
        "the discount differs) brings new customers in the first 120 days; DOMAIN lists "
        "penetration without an effect (the two-year count: penetration_two_years)",
    ),
    ("pricing", "logit_optimal"): Expectation(
        "net_profit_base", 1, "theory: the logit best response maximizes margin x volume"
    ),
    ("selection", "three_factor"): Expectation(
        "net_profit_base", 1, "issue 12: beats all_products on net profit (category-aware)"
    ),
    ("selection", "stop_loss"): Expectation(
        "net_profit_base", 1, "issue 12: beats all_products on net profit (delists losers)"
    ),
    ("selection", "top_margin"): Expectation(
        "net_profit_base",
        0,
        "DOMAIN names margin only as one factor of three (demand heat x competition x "
        "margin), no direction for a margin-only selection; its paper margin (the rivals' "
        "median price - landed cost) is not what cost-plus pricing earns, so neither "
        "gross margin nor margin per unit rises on default (effect shown, no verdict)",
    ),
    ("retention", "win_back"): Expectation(
        "churn_per_customer_year", -1, "issue 12: win-back lowers churn"
    ),
    ("retention", "rfm_tiers"): Expectation(
        "churn_per_customer_year", -1, "DOMAIN: tiered offers win back 28/41/62%"
    ),
    ("retention", "loyalty_program"): Expectation(
        "repeat_customers_lost",
        -1,
        "DOMAIN: loyalty programmes retain customers; Gopalakrishnan et al. 2021 (Marketing "
        "Science 40(3)): through members' lower attrition (>80% of the lift). Measured on "
        "whom it acts: members need 2 orders, so the share of first-year repeat buyers lost "
        "by the horizon (they hold a few % of customer-years: firm-wide churn moves ~0.1 pp)",
    ),
    ("retention", "none"): Expectation(
        "churn_per_customer_year", 1, "DOMAIN: without retention more customers churn"
    ),
    ("localization", "invest"): Expectation(
        "conversion_rate", 1, "DOMAIN: human translation and local payments raise conversion"
    ),
    ("localization", "none"): Expectation(
        "conversion_rate", -1, "DOMAIN: machine translation and missing payments cost conversion"
    ),
}


#: strategies whose lever variant is not the strategy at its default parameters
VARIANT_BUILDERS: dict[tuple[str, str], VariantBuilder] = {
    ("pricing", "penetration"): variants.penetration,
}


#: replications the no-marketing lever is judged on (see its row)
NO_MARKETING_REPS = 20

#: replications a selection lever is judged on: its paired effect is the write-offs and
#: launches the hidden product-market fit decides, so one replication's draw (latam_entry,
#: stop 28: one replication's write-off of 400 robot vacuums) can carry a 5-replication CI
#: across 0 while every replication is positive; the floor net_margin and the listing facts
#: use, which read the same fit draws
SELECTION_REPS = 20

#: replications local_warehouse_churn is judged on: the effect it looks for is small (the
#: long-delivery churn factor, x0.96-0.97 on the served regions' dropout: ~0.4-0.6 pp of
#: churn per customer-year) and one replication's paired sd is ~0.4 pp (sea_entry) to ~0.8 pp
#: (gulf_entry), so a 5-replication CI (+-0.5 to +-1 pp) cannot tell it from 0; at 20,
#: +-0.2 to +-0.4 pp (stop 31, fixed before measuring the rows on it)
LOCAL_WAREHOUSE_CHURN_REPS = 20

#: built-in strategies whose lever row needs more than the check's default replications
STRATEGY_MIN_REPS: dict[tuple[str, str], int] = {
    ("selection", "three_factor"): SELECTION_REPS,
    ("selection", "stop_loss"): SELECTION_REPS,
}


@dataclass(frozen=True)
class Lever:
    """One lever row: the variant it runs and what it should move (None: nothing stated)."""

    id: str
    build: VariantBuilder
    expected: Expectation | None
    #: replications this lever needs for a CI narrow enough to judge (its paired effect's
    #: spread is wide); the full check runs it and the baseline at least this many times
    #: unless --reps is given
    min_reps: int = 0
    #: the lever whose variant this row reads (rows on one lever's several KPIs run it once)
    shares: str = ""

    @property
    def variant(self) -> str:
        """The variant's key in the check's runs: ``lever:<id>`` (of ``shares`` if set)."""
        return f"lever:{self.shares or self.id}"


def built_in_levers() -> list[Lever]:
    """Every built-in strategy (plug-ins excluded), then local service, the marketing
    budget at zero and at three times the scenario's, bundles, the marketplace and a local
    warehouse."""
    from strategies.registry import all_strategies

    levers = [
        Lever(
            f"{kind}={name}",
            VARIANT_BUILDERS.get((kind, name)) or variants.strategy(kind, name),
            EXPECTED.get((kind, name)),
            min_reps=STRATEGY_MIN_REPS.get((kind, name), 0),
        )
        for kind, by_name in all_strategies().items()
        for name, cls in by_name.items()
        if cls.__module__.startswith("strategies.")
    ]
    levers += [
        Lever(
            "local_service",
            variants.local_service,
            Expectation(
                "late_buyers_lost",
                -1,
                "issue 12: local service lowers churn after late deliveries (faster "
                "service recovery): the share of first-year buyers of a late or lost parcel "
                "lost by the horizon (the customers the faster answer reaches)",
            ),
        ),
        Lever(
            "local_service_satisfaction",
            variants.local_service,
            Expectation(
                "late_buyers_satisfaction",
                1,
                "DOMAIN: fast customer service (<2 h) raises NPS: mean satisfaction at the "
                "horizon of first-year buyers of a late or lost parcel",
            ),
            shares="local_service",
        ),
        Lever(
            "penetration_two_years",
            VARIANT_BUILDERS[("pricing", "penetration")],
            Expectation(
                "new_customers",
                0,
                "the penetration row's variant over the whole horizon: whether the launch "
                "window's customers are extra or pulled forward; DOMAIN states no effect "
                "(stop 26: not significant on any shipped scenario; effect shown, no verdict)",
            ),
            shares="pricing=penetration",
        ),
        Lever(
            "no_marketing",
            variants.no_marketing,
            Expectation(
                "net_profit_base", -1, "issue 12: the budget's optimum is interior, not zero"
            ),
            # what marketing earns scales with the hidden product-market fit (on default the
            # paired effect correlates -0.94 with year-2 revenue): one replication's sd is
            # ~57k USD over 730 days, +-41k at 10 replications, +-26k at 20 (the baseline's
            # own floor, net_margin's: only this variant runs more)
            min_reps=NO_MARKETING_REPS,
        ),
        Lever(
            "no_bundles",
            variants.no_bundles,
            Expectation("order_value_base", -1, "DOMAIN: bundles raise order value about 52%"),
        ),
        Lever(
            "marketplace",
            variants.marketplace,
            Expectation("new_customers", 1, "issue 12: marketplace traffic brings customers"),
        ),
        Lever(
            "local_warehouse",
            variants.regional_warehouse,
            Expectation(
                "served_repeat_orders_per_customer_year",
                1,
                "DOMAIN: a regional warehouse (15 -> 3 days) halved the repurchase cycle: "
                "repurchases (orders by returning customers; a first order has no cycle) per "
                "customer-year alive in the regions a warehouse can serve (the others' "
                "customers are not touched)",
            ),
        ),
        Lever(
            "local_warehouse_churn",
            variants.regional_warehouse,
            Expectation(
                "served_churn_per_customer_year",
                -1,
                "DOMAIN: slow delivery is a churn cause: customers lost (net of win-backs) per "
                "customer-year alive in the regions a warehouse can serve",
            ),
            shares="local_warehouse",
            min_reps=LOCAL_WAREHOUSE_CHURN_REPS,
        ),
        Lever(
            "marketing_x3",
            variants.triple_marketing,
            Expectation(
                "net_profit_base",
                -1,
                "issue 12: the budget's optimum is interior: saturating channels make a "
                "budget three times the scenario's lose money",
            ),
        ),
    ]
    return levers


def scenario_levers(levers: list[Lever], scenario: Scenario) -> list[Lever]:
    """``levers`` with the expectations ``scenario`` states for itself in place of the
    built-in ones (the source says so and names what it replaces)."""
    out = []
    for lever in levers:
        stated = scenario.lever_expectations.get(lever.id)
        if stated is None:
            out.append(lever)
            continue
        old = lever.expected
        replaced = (
            f" (replaces the built-in: {old.kpi} {_direction(old.sign)}, {old.source})"
            if old is not None
            else " (no built-in statement)"
        )
        source = f"stated by the scenario: {stated.source}{replaced}"
        exp = Expectation(stated.kpi, SIGNS[stated.direction], source, by_scenario=True)
        out.append(replace(lever, expected=exp))
    return out


def lever_expectation_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """(field, message) for each lever id or KPI in ``scenario.lever_expectations`` that the
    lever table does not know."""
    ids = [lv.id for lv in built_in_levers()]
    problems = []
    for key, stated in scenario.lever_expectations.items():
        field = f"lever_expectations.{key}"
        if key not in ids:
            problems.append((field, f"no such lever; choose from {', '.join(ids)}"))
        if stated.kpi not in METRICS:
            problems.append(
                (f"{field}.kpi", f"unknown KPI {stated.kpi!r}; choose from {', '.join(METRICS)}")
            )
    return problems


def _direction(sign: int) -> str:
    return {1: "up", -1: "down", 0: "-"}[sign]


def lever_verdict(expected: Expectation | None, low: float, high: float) -> str:
    """pass when the CI is on the expected side of zero; otherwise why it fails."""
    if expected is None or expected.sign == 0:
        who = "the scenario" if expected is not None and expected.by_scenario else "DOMAIN"
        return f"not measurable: {who} states no direction"
    if not np.isfinite(low) or not np.isfinite(high):
        return "not measurable: too few replications for a CI"
    lo, hi = sorted((expected.sign * low, expected.sign * high))
    if lo > 0:
        return "pass"
    if hi < 0:
        return "fail: wrong direction"
    return "fail: no significant effect"


def lever_row(lever: Lever, runs_by: dict[str, list[RunStats]]) -> dict[str, Any]:
    """The lever table's row: baseline mean, paired effect with CI, verdict."""
    exp = lever.expected
    kpi = exp.kpi if exp is not None else "net_profit_base"
    row: dict[str, Any] = {
        "lever": lever.id,
        "kpi": kpi,
        "expected": _direction(exp.sign) if exp is not None else "-",
        "source": exp.source if exp is not None else "",
        "stated_by": "scenario" if exp is not None and exp.by_scenario else "built-in",
    }
    name = lever.variant
    if name not in runs_by:
        return {**row, "verdict": "not applicable: the scenario's own choice"}
    base, ci = _paired(METRICS[kpi], runs_by["baseline"], runs_by[name])
    verdict = lever_verdict(exp, ci["low"], ci["high"])
    if exp is not None and exp.premise is not None and not verdict.startswith("not"):
        verdict = premise_verdict(exp.premise, runs_by["baseline"], runs_by[name]) or verdict
    return {
        **row,
        "baseline": float(np.nanmean(base)),
        "effect": ci["mean"],
        "low": ci["low"],
        "high": ci["high"],
        "n": ci["n"],
        "verdict": verdict,
    }


def _paired(
    metric: Metric, baseline: list[RunStats], variant: list[RunStats]
) -> tuple[np.ndarray, dict[str, float]]:
    """The baseline's values and the paired effect's mean and 95% CI."""
    base = np.array([metric(s) for s in baseline])
    return base, mean_ci(np.array([metric(v) for v in variant]) - base)


def premise_verdict(premise: Premise, baseline: list[RunStats], variant: list[RunStats]) -> str:
    """'' when ``premise`` holds (its paired CI on its side of zero), else why the row gets
    no verdict, with the premise KPI's relative change and CI."""
    base, ci = _paired(METRICS[premise.kpi], baseline, variant)
    if min(premise.sign * ci["low"], premise.sign * ci["high"]) > 0:
        return ""
    mean = float(np.nanmean(base))
    rel = [100.0 * ci[k] / mean for k in ("mean", "low", "high")]
    return (
        f"not applicable: {premise.text} does not hold here ({premise.kpi} "
        f"{rel[0]:+.1f}% [{rel[1]:+.1f}, {rel[2]:+.1f}])"
    )
