"""Built-in retention strategies."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from strategies.base import MarketView, Param, RetentionDecision, RetentionStrategy
from strategies.registry import register


@register
class NoRetention(RetentionStrategy):
    """No retention spending: customers are left to their own purchase and dropout process."""

    name: ClassVar[str] = "none"
    params: ClassVar[tuple[Param, ...]] = ()

    def decide(self, view: MarketView, rng: np.random.Generator) -> RetentionDecision:
        return RetentionDecision(())
