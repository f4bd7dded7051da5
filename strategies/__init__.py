"""Pluggable strategy modules: pricing, selection, retention and localization."""

from strategies.base import (
    CustomerView,
    LocalizationChoice,
    LocalizationDecision,
    LocalizationStrategy,
    MarketView,
    Param,
    PricingDecision,
    PricingStrategy,
    RegionView,
    RetentionAction,
    RetentionDecision,
    RetentionStrategy,
    SelectionDecision,
    SelectionStrategy,
    Strategy,
    StrategyError,
)
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
