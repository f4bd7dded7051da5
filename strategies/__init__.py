"""Pluggable strategy modules: pricing, selection, retention and localization.

The public face of the package: the strategy bases and registry, plus the contract types
(`sim.contract`) a strategy decides from and returns.
"""

from __future__ import annotations

from sim.contract import (
    CustomerView,
    LocalizationChoice,
    LocalizationDecision,
    MarketView,
    PricingDecision,
    RegionView,
    RetentionAction,
    RetentionDecision,
    SelectionDecision,
)
from sim.errors import StrategyError
from strategies.base import (
    LocalizationStrategy,
    PricingStrategy,
    RetentionStrategy,
    SelectionStrategy,
    Strategy,
)
from strategies.params import Param
from strategies.registry import build_strategies, create, get, names, register

__all__ = [
    "CustomerView",
    "LocalizationChoice",
    "LocalizationDecision",
    "LocalizationStrategy",
    "MarketView",
    "Param",
    "PricingDecision",
    "PricingStrategy",
    "RegionView",
    "RetentionAction",
    "RetentionDecision",
    "RetentionStrategy",
    "SelectionDecision",
    "SelectionStrategy",
    "Strategy",
    "StrategyError",
    "build_strategies",
    "create",
    "get",
    "names",
    "register",
]
