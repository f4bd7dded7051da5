"""Reorder points that follow what sells: ``inventory_policy[].cover_days`` of recent sales."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.scenario import Scenario


class DemandCover:
    """Per warehouse and product: a recent daily sales rate and the days of it the reorder
    point covers (0: a fixed point).

    The rate is an exponentially weighted mean of units sold per day from the warehouse,
    moved ``1 / sales_window_days`` of the way to each day's sales. Sold, not demanded: a
    stockout hides demand from the rate as it does from a seller, and the rule's fixed
    ``reorder_point`` stays the floor. Only what the firm observes enters it, so a hidden
    product-market fit is learnt from sales, as the selection strategies learn it.
    """

    def __init__(self, cover_days: np.ndarray, window_days: np.ndarray):
        self.cover_days = cover_days  # (warehouses x products), 0 = fixed reorder point
        self.step = 1.0 / window_days  # share of the way to today's sales
        self.rate = np.zeros(cover_days.shape)  # units sold a day, recent

    @classmethod
    def from_rules(cls, sc: Scenario, warehouse_index: dict[str, int]) -> DemandCover | None:
        """The scenario's covers (rules for one product override a warehouse's rule for all
        products, as the fixed points do); None when no rule has ``cover_days``."""
        rules = sc.firm.inventory_policy
        if all(rule.cover_days is None for rule in rules):
            return None
        shape = (len(warehouse_index), len(sc.products))
        cover = np.zeros(shape)
        window = np.ones(shape)
        product_ids = [p.id for p in sc.products]
        for rule in sorted(rules, key=lambda r: r.product is not None):
            w = warehouse_index[rule.warehouse]
            cols = slice(None) if rule.product is None else product_ids.index(rule.product)
            cover[w, cols] = rule.cover_days or 0.0
            window[w, cols] = rule.sales_window_days
        return cls(cover, window)

    def observe(self, sold_units: np.ndarray) -> None:
        """Fold one day's units sold (warehouses x products) into the recent rate."""
        self.rate += self.step * (sold_units - self.rate)

    def reorder_points(self, w: int, floor: np.ndarray) -> np.ndarray:
        """Warehouse ``w``'s reorder points today: the larger of the fixed point ``floor`` and
        the cover of recent sales, rounded up (-1 in ``floor``, never reorder, stays)."""
        cover = np.ceil(self.cover_days[w] * self.rate[w]).astype(np.int64)
        return np.where(floor >= 0, np.maximum(floor, cover), floor)
