"""Helpers shared by built-in strategies: FX pass-through, taxes, competitor prices, run state.

Conventions (see ``sim.model``): our ``price_local`` is a list price before duty and VAT;
competitor prices are landed consumer prices (duty and VAT included); ``landed_cost_base``
is our unit cost plus freight (and duty on stock held locally) in the base currency.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.contract import MarketView, RegionView
from sim.prices import landed_price_local, list_price_local
from strategies.params import Param

FX_PASS_THROUGH = Param(
    "fx_pass_through",
    "float",
    1.0,
    low=0.0,
    high=1.0,
    help="share of FX moves passed into local prices (0 = prices fixed at the reference rate)",
)


def effective_fx(region: RegionView, pass_through: float) -> float:
    """Local-per-base rate used for pricing: reference rate plus a share of the move since."""
    ref = region.fx_reference_local_per_base
    return ref + pass_through * (region.fx_local_per_base - ref)


def base_to_local(region: RegionView, amount_base: np.ndarray, pass_through: float) -> np.ndarray:
    """Convert base-currency amounts to local prices with partial FX pass-through."""
    return np.asarray(amount_base, dtype=float) * effective_fx(region, pass_through)


# ----------------------------------------------------------------------------- taxes
def is_cross_border(region: RegionView) -> bool:
    """Whether our orders to ``region`` cross a border (import duty applies above de minimis)."""
    return not (region.localization.local_warehouse and region.has_local_warehouse_option)


def _tax(region: RegionView) -> dict[str, Any]:
    return {
        "vat_rate": region.vat_rate,
        "duty_rate": region.duty_rate,
        "de_minimis_local": region.de_minimis_local,
        "cross_border": is_cross_border(region),
    }


def consumer_price(region: RegionView, list_local: np.ndarray) -> np.ndarray:
    """Landed consumer price of our list prices (see :func:`sim.prices.landed_price_local`)."""
    return landed_price_local(list_local, **_tax(region))


def list_price_for(region: RegionView, consumer_local: np.ndarray) -> np.ndarray:
    """The list price whose landed consumer price is ``consumer_local`` (see
    :func:`sim.prices.list_price_local`)."""
    return list_price_local(consumer_local, **_tax(region))


# ----------------------------------------------------------------------------- products
def taboo_mask(view: MarketView, region: RegionView) -> np.ndarray:
    """Products whose tags meet the region's taboo tags (never worth listing there)."""
    return np.array([bool(tags & region.taboo_tags) for tags in view.product_tags], dtype=bool)


def category_of(view: MarketView) -> np.ndarray:
    """Category index per product (categories in first-seen order)."""
    cats = list(dict.fromkeys(view.product_categories))
    return np.array([cats.index(c) for c in view.product_categories], dtype=np.int64)


def competitor_stats(view: MarketView, region: RegionView) -> dict[str, np.ndarray]:
    """Per product: competitor offers in its category and their median, min and recent cut.

    Returns arrays over products: ``n`` (offers), ``median`` and ``min`` consumer prices
    (NaN without offers) and ``cut`` (largest relative price cut since the previous
    repricing, <= 0; 0 without cuts).
    """
    cats = np.array(region.competitor_categories, dtype=object)
    prices = np.asarray(region.competitor_price_local, dtype=float)
    change = np.asarray(region.competitor_price_change_recent, dtype=float)
    n_p = len(view.product_ids)
    out = {
        "n": np.zeros(n_p),
        "median": np.full(n_p, np.nan),
        "min": np.full(n_p, np.nan),
        "cut": np.zeros(n_p),
    }
    for cat in dict.fromkeys(view.product_categories):
        products = np.array([c == cat for c in view.product_categories], dtype=bool)
        sel = cats == cat if len(cats) else np.zeros(0, dtype=bool)
        if not sel.any():
            continue
        p, dp = prices[sel], change[sel]
        before = p - dp
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(before > 0, dp / before, 0.0)
        out["n"][products] = sel.sum()
        out["median"][products] = float(np.median(p))
        out["min"][products] = float(p.min())
        out["cut"][products] = min(0.0, float(rel.min()))
    return out


# ----------------------------------------------------------------------------- state
class RunState:
    """Per-run memory of a stateful strategy, cleared when a new run starts.

    A model always decides on day 0 and then on increasing days, so a view whose day is not
    after the last one seen means the instance is being reused for a new run (or a test
    replays a view): the memory is cleared, which keeps decisions a function of the run.
    """

    def __init__(self) -> None:
        self.last_day: int | None = None
        self.data: dict[str, Any] = {}

    def begin(self, view: MarketView) -> dict[str, Any]:
        """The memory to use for ``view`` (fresh when a new run starts)."""
        if self.last_day is None or view.day <= self.last_day:
            self.data = {}
        self.last_day = view.day
        return self.data
