"""Built-in pricing strategies."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from strategies._common import FX_PASS_THROUGH, base_to_local
from strategies.base import MarketView, Param, PricingDecision, PricingStrategy
from strategies.registry import register


@register
class CostPlus(PricingStrategy):
    """Cost-plus: price = landed cost x (1 + markup), converted with FX pass-through.

    The business rule of most first-time cross-border sellers: know your landed cost
    (product, freight, expected duty) and add a fixed margin.
    """

    name: ClassVar[str] = "cost_plus"
    params: ClassVar[tuple[Param, ...]] = (
        Param("markup", "float", 0.5, low=0.0, high=5.0, help="margin over landed cost"),
        FX_PASS_THROUGH,
    )

    def decide(self, view: MarketView, rng: np.random.Generator) -> PricingDecision:
        prices = {
            rid: base_to_local(r, r.landed_cost_base * (1.0 + self.markup), self.fx_pass_through)
            for rid, r in view.regions.items()
        }
        return PricingDecision(prices)
