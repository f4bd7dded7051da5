"""The benchmark scenario (``benchmarks/scenario_bench.yaml``) scaled to N consumers and days."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sim.scenario import Scenario
from sim.validation import parse_scenario
from strategies import registry

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIO_PATH = HERE / "scenario_bench.yaml"
RESULTS_PATH = HERE / "RESULTS.md"
REFERENCE_N = 100_000  # the YAML's stock, budget and lane capacities are sized for this N


@cache
def _bench_yaml() -> str:
    return SCENARIO_PATH.read_text(encoding="utf-8")


def retention_choice() -> str:
    """``rfm_tiers`` when registered, else ``none``."""
    return "rfm_tiers" if "rfm_tiers" in registry.names("retention") else "none"


def bench_data(
    n: int,
    days: int = 365,
    *,
    retention: str | None = None,
    variant: int = 0,
    markup: float | None = None,
) -> dict[str, Any]:
    """Raw scenario data of the benchmark scenario for ``n`` consumers and ``days`` days.

    Stock levels, marketing budget and lane servers scale with ``n / 100_000`` so that the
    market behaves alike at every size (stockouts stay rare, lanes are not overloaded, and
    SimPy work grows with the number of shipments, i.e. with ``n``).

    Args:
        n: consumers in the region.
        days: horizon.
        retention: retention strategy name (default :func:`retention_choice`).
        variant: 0 = base; 1 = price-sensitive market with aggressive competitors; 2 = high
            duty, stronger seasonality (the three scenarios of the tuning benchmark).
        markup: cost-plus markup (default: the YAML's).
    """
    data = yaml.safe_load(_bench_yaml())
    s = n / REFERENCE_N
    region = data["regions"][0]
    region["population"] = int(n)
    data["horizon_days"] = int(days)
    firm = data["firm"]
    firm["warehouses"][0]["initial_units"] = max(50, round(1000 * s))
    firm["inventory_policy"][0]["reorder_point"] = max(20, round(300 * s))
    firm["inventory_policy"][0]["order_quantity"] = max(50, round(1000 * s))
    firm["marketing_budget_monthly_base"]["BR"] = 3000.0 * s
    for lane in data["lanes"]:
        for stage in lane["stages"]:
            stage["servers"] = max(stage["servers"], round(stage["servers"] * s))
        for d in lane.get("disruptions", []):  # keep them inside shorter horizons
            if days < 365:
                length = d["end_day"] - d["start_day"]
                d["start_day"] = d["start_day"] * days // 365
                d["end_day"] = d["start_day"] + max(1, length * days // 365)
    data["strategies"]["retention"] = {"name": retention or retention_choice()}
    if markup is not None:
        data["strategies"]["pricing"]["params"]["markup"] = float(markup)
    if variant == 1:
        for seg in region["segments"]:
            seg["price_sensitivity"]["mean"] *= 1.5
        for comp in data["competitors"]:
            comp["behaviour"] = {"kind": "undercut", "reprice_every_days": 3, "undercut_share": 0.1}
        data["seed"] += 1
    elif variant == 2:
        region["tax"]["duty_rate"] = 0.9
        region["seasonality"] = [0.6, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0, 1.0, 1.1, 1.2, 2.2, 2.0]
        data["seed"] += 2
    elif variant != 0:
        raise ValueError(f"variant must be 0, 1 or 2, got {variant}")
    return data


def bench_scenario(n: int, days: int = 365, **kwargs: Any) -> Scenario:
    """The validated benchmark scenario (see :func:`bench_data`)."""
    return parse_scenario(bench_data(n, days, **kwargs), str(SCENARIO_PATH))
