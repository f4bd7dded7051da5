"""Built-in localization strategies."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from strategies.base import LocalizationDecision, LocalizationStrategy, MarketView, Param
from strategies.registry import register


@register
class NoLocalization(LocalizationStrategy):
    """No localization: machine-translated listings, the firm's default payment methods,
    cross-border fulfilment and no local service."""

    name: ClassVar[str] = "none"
    params: ClassVar[tuple[Param, ...]] = ()

    def decide(self, view: MarketView, rng: np.random.Generator) -> LocalizationDecision:
        return LocalizationDecision({rid: r.localization for rid, r in view.regions.items()})
