"""Baskets and bundles: units per order by segment, bundle offers, stock fit, unit returns.

Rules (all draws counter-based per buyer and occasion, so strategy variants share them):

* **Basket**: an order has 1 + Poisson(m) units (m by segment, ``segments[].basket``),
  cut at the segment's ``max_units``; it takes that many units of stock, pays that many
  prices (taxes on the parcel's value) and ships as one parcel.
* **Bundle** (``firm.bundles``): a *growing* customer (``min_orders`` to ``max_orders``
  orders with us so far, the last within ``recent_days``) who buys is offered ``units``
  of the chosen product at ``1 - discount_share`` of the price and takes it with
  probability ``take_rate`` (the order then has the bundle's units, or its own basket when
  larger).
* **Freight**: the lane charges ``cost_per_unit_base`` per unit; each unit after the first
  in one parcel costs ``regions[].sales.extra_unit_freight_share`` of it.
* **Returns**: each unit of a delivered order is returned with the product's probability
  (unit 0 keeps the one-unit draw); the refund is the returned units' share of the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import keyed
from sim.quantiles import CappedPoisson
from sim.scenario import Scenario

BUNDLE_NONE, BUNDLE_OFFERED, BUNDLE_TAKEN = 0, 1, 2
#: bundle flag names by code (the transaction log's ``bundle`` column)
BUNDLE_FLAGS = ("none", "offered", "taken")


@dataclass
class Basket:
    """One batch of orders: units, bundle flag (0 none, 1 offered and declined, 2 taken)
    and the price multiplier (None: every order at list price)."""

    units: np.ndarray
    bundle: np.ndarray
    price_multiplier: np.ndarray | None = None

    def take(self, sel: np.ndarray) -> Basket:
        """The orders at ``sel`` (indices or a mask)."""
        mult = None if self.price_multiplier is None else self.price_multiplier[sel]
        return Basket(self.units[sel], self.bundle[sel], mult)

    @property
    def single(self) -> bool:
        """Every order is one unit at list price (the pre-basket arithmetic applies)."""
        return self.price_multiplier is None and not np.count_nonzero(self.units != 1)


class Baskets:
    """Draws each buying occasion's basket and bundle (stream ``baskets``)."""

    def __init__(self, scenario: Scenario, key: np.uint64):
        self.key = key
        regions = scenario.regions
        self.extra_mean = [
            np.array([s.basket.extra_units_mean for s in r.segments]) for r in regions
        ]
        self.max_units = [np.array([s.basket.max_units for s in r.segments]) for r in regions]
        self.has_baskets = [bool(m.any()) for m in self.extra_mean]
        #: extra units of a basket by segment: min(Poisson draw, max_units - 1)
        self.extra_units = [
            CappedPoisson(m, u - 1) for m, u in zip(self.extra_mean, self.max_units, strict=True)
        ]
        self.bundles = scenario.firm.bundles
        self.freight_share = np.array([r.sales.extra_unit_freight_share for r in regions])

    def draw(self, r: int, d: int, pop, cons: np.ndarray) -> Basket:
        """Basket and bundle of buyers ``cons`` of region ``r`` at their current occasion."""
        n = len(cons)
        units = np.ones(n, dtype=np.int64)
        bundle = np.zeros(n, dtype=np.int8)
        if not self.has_baskets[r] and self.bundles is None:
            return Basket(units, bundle)
        keys = None
        if self.has_baskets[r]:
            keys = keyed.occasion_keys(self.key, cons, pop.occasion_count[cons])
            seg = pop.segment[cons]
            mean = self.extra_mean[r][seg]
            some = mean > 0
            u = keyed.uniforms(keys[some], keyed.SALT_BASKET)
            units[some] = 1 + self.extra_units[r].quantile(u, seg[some])  # at most max_units
        if self.bundles is None:
            return Basket(units, bundle)
        b = self.bundles
        freq = pop.frequency.take(cons)
        growing = (
            pop.customer.take(cons)
            & (freq >= b.min_orders)
            & (freq <= b.max_orders)
            & (d - pop.last_day.take(cons) <= b.recent_days)
        )
        offered = growing.nonzero()[0]
        if not len(offered):  # no bundle shown: no draw needed (each buyer's draw is its own)
            return Basket(units, bundle, np.ones(n))
        if keys is None:  # only the buyers shown the bundle are keyed: the same draws
            who = cons.take(offered)
            u = keyed.uniforms(
                keyed.occasion_keys(self.key, who, pop.occasion_count[who]), keyed.SALT_BUNDLE
            )
        else:
            u = keyed.uniforms(keys.take(offered), keyed.SALT_BUNDLE)
        taken = offered[u < b.take_rate]
        bundle[offered] = BUNDLE_OFFERED
        bundle[taken] = BUNDLE_TAKEN
        units[taken] = np.maximum(units[taken], b.units)
        mult = np.ones(n)
        mult[taken] = 1.0 - b.discount_share
        return Basket(units, bundle, mult)

    def parcel_freight_saving(self, r: int, units: np.ndarray, cost_per_unit_base: float) -> float:
        """Freight the lane's per-unit rate overcharges multi-unit parcels (base currency):
        (1 - extra_unit_freight_share) x per-unit rate x units after the first."""
        extra = int((units - 1).sum())
        if not extra:
            return 0.0
        return (1.0 - self.freight_share[r]) * cost_per_unit_base * extra


def fits_stock(products: np.ndarray, units: np.ndarray, on_hand: np.ndarray) -> np.ndarray:
    """Which orders the stock fills: first come, first served within the batch, an order is
    filled when its units fit the product's stock left by the orders filled before it (an order
    too large to fit is skipped, and smaller orders behind it can still be filled)."""
    if len(products) == 1:  # one order (most rounds): what the running total below gives
        return on_hand.take(products) >= units
    if _all_fit(products, units, on_hand):  # every order's running total is within stock
        return np.ones(len(products), dtype=bool)
    order = np.argsort(products, kind="stable")
    sorted_p = products[order]
    sorted_u = units[order]
    cum = np.cumsum(sorted_u)
    starts = np.searchsorted(sorted_p, sorted_p, side="left")
    within = cum - (cum[starts] - sorted_u[starts])  # units up to and including this order
    filled = np.empty(len(products), dtype=bool)
    filled[order] = within <= on_hand[sorted_p]
    if np.count_nonzero(filled) == len(filled) or not np.count_nonzero(units != 1):
        return filled  # all fit, or one unit each: the running total is exact
    for p in np.unique(products[~filled]):  # a product short of stock today (rare): in turn
        left = int(on_hand[p])
        for i in np.flatnonzero(products == p):
            filled[i] = units[i] <= left
            left -= int(units[i]) if filled[i] else 0
    return filled


def _all_fit(products: np.ndarray, units: np.ndarray, on_hand: np.ndarray) -> bool:
    """Whether each product's units ordered in the batch fit its stock: then every order's
    running total does, and :func:`fits_stock` fills them all (one count per product instead
    of a sort of the batch)."""
    if np.count_nonzero(units != 1):
        demand = np.bincount(products, weights=units, minlength=len(on_hand))  # exact integers
    else:
        demand = np.bincount(products, minlength=len(on_hand))
    return bool((demand <= on_hand).all())


def unit_products(products: np.ndarray, units: np.ndarray) -> np.ndarray:
    """One product entry per unit sold (``products`` itself when every order is one unit)."""
    if not np.count_nonzero(units != 1):
        return products
    return np.repeat(products, units)


def returned_units(
    keys: np.ndarray, first_returned: np.ndarray, units: np.ndarray, probability: np.ndarray
) -> np.ndarray:
    """Units returned per order: unit 0 as drawn (``first_returned``), each further unit
    with the same probability from its own keyed draw."""
    out = first_returned.astype(np.int64)
    multi = np.flatnonzero(units > 1)
    if not len(multi):
        return out
    extra = units[multi] - 1
    j = np.arange(1, int(extra.max()) + 1)
    u = keyed.uniforms(keys[multi][:, None], keyed.SALT_UNIT_RETURN + j[None, :])
    back = (u < probability[multi][:, None]) & (j[None, :] <= extra[:, None])
    out[multi] += back.sum(axis=1)
    return out
