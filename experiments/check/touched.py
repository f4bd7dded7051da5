"""Touched groups for the lever rows: the customers a lever acts on, and what happened to them.

A lever that acts on a few customers (loyalty members, buyers of a late parcel, the region a
warehouse serves) moves firm-wide KPIs by their share of the base only. These figures,
taken from a finished run's order book and its consumers' states, let a lever row measure
the group the evidence speaks of. Each group is defined the same way in every variant (by
orders and deliveries, not by the lever), so paired replications compare like with like:

* ``repeat``: customers whose second order with us was placed before ``days - window``
  (the loyalty programme's eligible base: ``min_orders`` 2);
* ``late``: customers with a parcel ordered before ``days - window`` that arrived after its
  promise or was lost (``late_days`` > 0 or status lost);

each with ``*_cohort`` (customers), ``*_lost`` (of them, not alive at the horizon: churned
and not won back) and ``*_satisfaction_sum`` (their satisfaction at the horizon, summed).
``served_lost`` (customers churned net of lapsed ones won back), ``served_repeat_orders``
(orders by returning customers: repurchases) and ``served_customer_years`` are those KPIs
summed over the regions a local or regional warehouse can serve (``sim.scenario.local_lane``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.orders import STATUS_LOST

if TYPE_CHECKING:
    from sim.model import MarketModel


def _cohort(model: MarketModel, region: np.ndarray, consumer: np.ndarray, sel: np.ndarray):
    """(customers, of them not alive at the horizon, their satisfaction summed)."""
    cohort, lost, satisfaction = 0, 0, 0.0
    for r, pop in enumerate(model.consumers):
        who = np.unique(consumer[sel & (region == r)])
        cohort += len(who)
        lost += int(np.count_nonzero(~pop.alive[who]))
        satisfaction += float(pop.satisfaction[who].astype(np.float64).sum())
    return cohort, lost, satisfaction


def served_regions(model: MarketModel) -> list[str]:
    """Regions a local or regional warehouse can serve (whether or not it is in use)."""
    from sim.scenario import local_lane

    sc = model.scenario
    return [r.id for r in sc.regions if local_lane(sc, r.id) is not None]


def group_statistics(
    model: MarketModel, kpis: pd.DataFrame, days: int, window_days: int
) -> dict[str, float]:
    """The touched-group figures of one finished run (see the module docstring)."""
    book = model.firm.orders
    region = book.column("region").astype(np.int64)
    consumer = book.column("consumer").astype(np.int64)
    early = book.column("day") < days - window_days
    late = (book.column("late_days") > 0) | (book.column("status") == STATUS_LOST)
    groups = {"repeat": early & (book.column("seq") == 2), "late": early & late}
    out: dict[str, float] = {}
    for name, sel in groups.items():
        cohort, lost, satisfaction = _cohort(model, region, consumer, sel)
        out[f"{name}_cohort"] = float(cohort)
        out[f"{name}_lost"] = float(lost)
        out[f"{name}_satisfaction_sum"] = satisfaction
    rows = kpis[kpis["region"].isin(served_regions(model))]
    out["served_lost"] = float((rows["churned_customers"] - rows["reactivated_customers"]).sum())
    out["served_repeat_orders"] = float(rows["repeat_orders"].sum())
    out["served_customer_years"] = float(rows["customer_years"].sum())
    return out


def share(stats_touched: dict[str, float], num: str, den: str) -> float:
    """``num`` / ``den`` of one run's touched figures (NaN when absent or 0)."""
    d = stats_touched.get(den, 0.0)
    return stats_touched.get(num, np.nan) / d if d else np.nan
