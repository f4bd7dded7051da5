"""Built-in product-selection strategies."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from strategies.base import MarketView, Param, SelectionDecision, SelectionStrategy
from strategies.registry import register


@register
class AllProducts(SelectionStrategy):
    """List every product in every region (no curation; taboo products included)."""

    name: ClassVar[str] = "all_products"
    params: ClassVar[tuple[Param, ...]] = ()

    def decide(self, view: MarketView, rng: np.random.Generator) -> SelectionDecision:
        n = len(view.product_ids)
        return SelectionDecision({rid: np.ones(n, dtype=bool) for rid in view.regions})
