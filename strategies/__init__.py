"""Pluggable strategy modules: pricing, selection, retention and localization."""

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
from strategies.registry import create, get, names, register

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
    "create",
    "get",
    "names",
    "register",
]
