"""Value at the horizon: customer equity (BG/NBD), inventory value and the planner KPIs.

At the run's last day every region is valued beside its profit, never added to it:

* **Customer equity**. Every customer who ever bought from us is valued as the seller sees
  them: the seller does not know who is still alive, only each customer's purchase history
  with us, ``x`` (repeat orders), ``t_x`` (days from first to last order) and ``T`` (days
  from first order to the horizon). Modelling choice: a customer's purchases with us are
  the region's BG/NBD occasion process (``r``, ``alpha_days``, ``a``, ``b`` of the
  customer's segment, from the scenario) thinned by our **share of wallet** ``s``, the
  share of our existing customers' purchase occasions that bought from us over the
  contribution window (``repeat_orders / customer_occasions``). A Gamma(r, alpha) rate
  thinned by ``s`` is Gamma(r, alpha / s), so the seller applies the BG/NBD conditional
  expectation E[Y(t) | x, t_x, T] (``sim.bgnbd``) with ``alpha / s``. Dropout stays one
  Beta(a, b) draw per purchase with us, which is exact when ``s = 1`` (every occasion of a
  customer buys from us) and overstates lifetimes when customers also buy elsewhere.
  Expected purchases are taken in yearly buckets over ``equity_years`` and each bucket is
  discounted to the horizon at mid-year: ``sum_k (E[Y(365 k)] - E[Y(365 (k-1))]) /
  (1 + rate) ** (k - 0.5)``; customer equity is that discounted count times the region's
  **contribution per order**: net revenue minus COGS, freight, duties, payment and FX fees,
  refunds and retention, per order, over the last ``contribution_window_days`` of the run
  (the whole run when that window has no order).
* **Inventory value** is the ledger's stock KPI ``inventory_value_base`` (landed cost, ``ALL``
  row). It is reported beside customer equity and is not added to profit plus equity: stock
  not yet sold was never expensed (COGS is booked at sale), so the run's net profit already
  keeps its value (adding it would count it twice).
* **Planner KPIs**: repurchase rate (second order within ``repurchase_window_days`` of the
  first, among customers whose first order is at least that long before the horizon), CLV
  (realised contribution per customer plus customer equity per customer) and profit plus
  customer equity (net profit over the run + customer equity).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from sim.bgnbd import BgNbdParams, conditional_expected_purchases, distinct_rows
from sim.calendar import DAYS_PER_YEAR
from sim.exact_dot import dot

if TYPE_CHECKING:
    from sim.consumers import RegionalConsumers
    from sim.model import MarketModel
    from sim.scenario import Valuation

#: per-order costs taken off revenue in the contribution (names that are not in the KPI
#: catalogue are skipped, so the definition follows the ledger's lines)
CONTRIBUTION_COSTS = (
    "duty_base",
    "refunds_base",
    "cogs_base",
    "freight_base",
    "payment_fees_base",
    "marketplace_fees_base",
    "fx_cost_base",
    "retention_base",
)
#: customer histories valued per batch
_CHUNK = 8192
#: the flows the horizon valuation keeps per region over the contribution window
WINDOW_FLOWS = ("contribution_base", "orders", "repeat_orders", "customer_occasions")


def contribution_base(flows: Mapping[str, float]) -> float:
    """Revenue minus the per-order costs of :data:`CONTRIBUTION_COSTS` present in ``flows``."""
    return flows["revenue_base"] - sum(flows[k] for k in CONTRIBUTION_COSTS if k in flows)


def discounted_purchase_weights(years: int, annual_rate: float) -> np.ndarray:
    """Discount factor of each yearly bucket ``k = 1..years``, at mid-year."""
    k = np.arange(1, years + 1, dtype=float)
    return (1.0 + annual_rate) ** -(k - 0.5)


def expected_purchases(
    params: BgNbdParams,
    share: float,
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
    years: int,
    annual_rate: float,
) -> tuple[float, float]:
    """Sum over customers of expected purchases with us in the next ``years`` (days unit),
    undiscounted and discounted; the occasion process thinned by ``share`` (see module)."""
    if years == 0 or share <= 0.0 or len(x) == 0:
        return 0.0, 0.0
    thinned = BgNbdParams(params.r, params.alpha / min(share, 1.0), params.a, params.b)
    method = "closed_form" if thinned.a > 1.0 else "quadrature"
    (x, t_x, big_t), weight = _distinct_histories(x, t_x, big_t)
    horizons = (DAYS_PER_YEAR * np.arange(1, years + 1, dtype=float))[:, None]
    summed = np.zeros(years)
    for lo in range(0, len(x), _CHUNK):  # bounded temporaries (peak memory at 10^6)
        part = slice(lo, lo + _CHUNK)
        cumulative = conditional_expected_purchases(
            thinned, horizons, x[part], t_x[part], big_t[part], method=method
        )
        summed += dot(cumulative, weight[part])  # no BLAS: the same bits on every CPU
    by_year = np.diff(summed, prepend=0.0)
    return float(by_year.sum()), float(
        dot(by_year, discounted_purchase_weights(years, annual_rate))
    )


def _distinct_histories(
    x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The distinct ``(x, t_x, T)`` triples and how many customers share each: histories are
    whole days, so a region's customers have far fewer distinct ones than members."""
    stacked = np.column_stack([x, t_x, big_t])
    if len(stacked) < 2 or not np.array_equal(stacked, np.round(stacked)):
        return (x, t_x, big_t), np.ones(len(x))
    order = _whole_rows_order(stacked)
    (ux, ut_x, ubig_t), index = distinct_rows(x, t_x, big_t, order=order)
    return (ux, ut_x, ubig_t), np.bincount(index, minlength=len(ux)).astype(float)


def _whole_rows_order(stacked: np.ndarray) -> np.ndarray | None:
    """``np.lexsort``'s stable order of whole-number rows ``(x, t_x, T)`` from one int64 key
    per row (the columns' digits in a mixed radix: the same order, one sort instead of
    three); None when a value is negative or the key could overflow."""
    if stacked.min() < 0:
        return None
    whole = stacked.astype(np.int64)
    radix = whole.max(axis=0) + 1
    if float(radix[0]) * float(radix[1]) * float(radix[2]) >= 2.0**62:
        return None
    key = (whole[:, 0] * radix[1] + whole[:, 1]) * radix[2] + whole[:, 2]
    return np.argsort(key, kind="stable")


def value_customers(
    pop: RegionalConsumers, horizon_days: int, share: float, valuation: Valuation
) -> tuple[int, float, float]:
    """Customers, expected purchases (undiscounted) and discounted purchases of a region."""
    ids = pop.customer_ids()
    total, discounted = 0.0, 0.0
    segments = pop.spec.segments
    seg_of = pop.segment[ids]
    for s_idx, seg in enumerate(segments):
        members = ids[seg_of == s_idx]
        if not len(members):
            continue
        bg = seg.repeat or pop.spec.repeat
        first = pop.first_day[members].astype(float)
        x = pop.frequency[members].astype(float) - 1.0
        t_x = pop.last_day[members].astype(float) - first
        big_t = horizon_days - first
        params = BgNbdParams(bg.r, bg.alpha_days, bg.a, bg.b)
        u, d = expected_purchases(
            params, share, x, t_x, big_t, valuation.equity_years, valuation.discount_rate_annual
        )
        total += u
        discounted += d
    return len(ids), total, discounted


class HorizonBook:
    """Running sums the horizon valuation needs: flows over the contribution window and over
    the run, per region (the daily KPI rows feed it; O(regions) per day)."""

    def __init__(self, n_regions: int, window_days: int):
        self.window: deque[np.ndarray] = deque(maxlen=window_days)
        self.run = np.zeros((n_regions, len(WINDOW_FLOWS) + 1))  # + net profit
        self.firm_net_profit_base = 0.0  # the ALL rows' net profit over the run

    def add_day(self, region_flows: list[Mapping[str, float]], firm_net_profit: float) -> None:
        """Remember one day's region flows and the day's firm-wide (``ALL``) net profit."""
        day = np.array([[f[k] for k in WINDOW_FLOWS] for f in region_flows], dtype=float)
        self.window.append(day)
        profit = np.array([f["net_profit_base"] for f in region_flows], dtype=float)
        self.run += np.column_stack([day, profit])
        self.firm_net_profit_base += firm_net_profit

    def window_sums(self) -> np.ndarray:
        """Sum of :data:`WINDOW_FLOWS` per region over the window (regions x flows)."""
        return np.sum(self.window, axis=0)


def horizon_rows(
    model: MarketModel, book: HorizonBook
) -> tuple[list[dict[str, float]], dict[str, float]]:
    """The horizon KPIs of each region row and of the ``ALL`` row (see the module)."""
    sc = model.scenario
    valuation = sc.valuation
    horizon = model.horizon_days
    window, run = book.window_sums(), book.run
    rows = []
    for r, pop in enumerate(model.consumers):
        use = window[r] if window[r, 1] > 0 else run[r, :-1]
        per_order = float(use[0] / use[1]) if use[1] > 0 else float("nan")
        share = use[2] / use[3] if use[3] > 0 else 1.0
        customers, expected, discounted = value_customers(pop, horizon, share, valuation)
        equity = per_order * discounted if customers else 0.0
        eligible, repurchased = pop.repurchase_counts(horizon, valuation.repurchase_window_days)
        rows.append(
            {
                "expected_purchases": expected,
                "contribution_per_order_base": per_order,
                "customer_equity_base": equity,
                "repurchase_eligible": eligible,
                "repurchased": repurchased,
                "realised_contribution_base": float(run[r, 0]),
                "profit_plus_equity_base": float(run[r, -1]) + equity,
            }
        )
    total = {
        k: float(sum(row[k] for row in rows))
        for k in (
            "expected_purchases",
            "customer_equity_base",
            "repurchase_eligible",
            "repurchased",
            "realised_contribution_base",
        )
    }
    use = window.sum(axis=0) if window[:, 1].sum() > 0 else run[:, :-1].sum(axis=0)
    total["contribution_per_order_base"] = float(use[0] / use[1]) if use[1] > 0 else float("nan")
    total["profit_plus_equity_base"] = book.firm_net_profit_base + total["customer_equity_base"]
    finish_horizon_row(total, sum(p.n_customers for p in model.consumers))
    for row, pop in zip(rows, model.consumers, strict=True):
        finish_horizon_row(row, pop.n_customers)

    return rows, total


def finish_horizon_row(row: dict[str, float], customers: int) -> None:
    """Add the ratios of a horizon row: repurchase rate and CLV per customer."""
    eligible = row.pop("repurchase_eligible")
    repurchased = row.pop("repurchased")
    realised = row.pop("realised_contribution_base")
    row["repurchase_rate"] = repurchased / eligible if eligible else float("nan")
    row["clv_base"] = (
        (realised + row["customer_equity_base"]) / customers if customers else float("nan")
    )
