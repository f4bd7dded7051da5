"""Example marketsim plug-in: a charm-pricing strategy registered through an entry point."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.contract import MarketView, PricingDecision
from strategies.base import PricingStrategy
from strategies.params import Param

__all__ = ["MyPricing"]


class MyPricing(PricingStrategy):
    """Charm pricing: cost-plus, then each local price rounded up to end in ``ending``.

    Rule: price = landed cost x (1 + markup) in local currency (with FX pass-through),
    raised to the next price ending in ``ending`` (e.g. 12.30 -> 12.99), because shoppers
    read 12.99 as "twelve-something".
    """

    name: ClassVar[str] = "my_pricing"
    params: ClassVar[tuple[Param, ...]] = (
        Param("markup", "float", 0.5, low=0.0, high=5.0, help="margin over landed cost"),
        Param("ending", "float", 0.99, low=0.0, high=0.99, help="fractional price ending"),
        Param(
            "fx_pass_through", "float", 1.0, low=0.0, high=1.0, help="share of FX moves passed on"
        ),
    )

    def decide(self, view: MarketView, rng: np.random.Generator) -> PricingDecision:
        prices = {}
        for region_id, region in view.regions.items():
            ref = region.fx_reference_local_per_base
            fx = ref + self.fx_pass_through * (region.fx_local_per_base - ref)
            raw = region.landed_cost_base * (1.0 + self.markup) * fx
            charm = np.floor(raw) + self.ending
            prices[region_id] = np.where(charm < raw, charm + 1.0, charm)  # >= raw > 0
        return PricingDecision(prices)
