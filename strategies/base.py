"""Strategy bases: one small abstract base per kind, with declared parameters.

A strategy reads a :class:`~sim.contract.MarketView` built by the model (only what a real
seller could observe) and returns a plain-data decision; the model validates, applies and
books it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from sim.contract import (
    Kind,
    LocalizationDecision,
    MarketView,
    PricingDecision,
    RetentionDecision,
    SelectionDecision,
    StrategyContext,
)
from strategies.params import Param, resolve_params


class Strategy(ABC):
    """Base of every strategy: declared parameters, validated once at construction."""

    kind: ClassVar[Kind]
    name: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, **values: Any) -> None:
        self.values: Mapping[str, Any] = MappingProxyType(resolve_params(type(self), values))

    def __getattr__(self, item: str) -> Any:
        values = self.__dict__.get("values")
        if values is not None and item in values:
            return values[item]
        raise AttributeError(item)

    @classmethod
    def check(cls, values: Mapping[str, Any], context: StrategyContext) -> list[tuple[str, str]]:
        """Cross-checks against the scenario's facts (``context``); override where needed."""
        return []

    @classmethod
    def validate_values(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Cross-parameter checks that need no scenario (e.g. ``low < high`` pairs).

        Called by :func:`resolve_params` once every parameter is valid on its own, so both
        construction and scenario validation report them; returns ``(field_path, message)``.
        """
        return []

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({args})"


class PricingStrategy(Strategy):
    """Sets prices per product and region."""

    kind: ClassVar[Kind] = "pricing"

    @abstractmethod
    def decide(self, view: MarketView, rng: np.random.Generator) -> PricingDecision:
        """Return prices for every region in ``view``."""


class SelectionStrategy(Strategy):
    """Chooses the listed products per region."""

    kind: ClassVar[Kind] = "selection"

    @abstractmethod
    def decide(self, view: MarketView, rng: np.random.Generator) -> SelectionDecision:
        """Return the listing mask for every region in ``view``."""

    def scores(self, view: MarketView, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Attractiveness per product and region (higher is better, ``-inf`` = never list).

        Wrappers such as ``stop_loss`` use it to pick the next candidate. The default ranks
        the products :meth:`decide` lists above the others (ties broken by product order).
        """
        decision = self.decide(view, rng)
        return {
            rid: np.where(np.asarray(m, dtype=bool), 1.0, 0.0) for rid, m in decision.listed.items()
        }


class RetentionStrategy(Strategy):
    """Targets our customers with retention actions."""

    kind: ClassVar[Kind] = "retention"

    @abstractmethod
    def decide(self, view: MarketView, rng: np.random.Generator) -> RetentionDecision:
        """Return the actions to start now."""


class LocalizationStrategy(Strategy):
    """Chooses localization investments per region."""

    kind: ClassVar[Kind] = "localization"

    @abstractmethod
    def decide(self, view: MarketView, rng: np.random.Generator) -> LocalizationDecision:
        """Return the localization choice per region."""


BASE_BY_KIND: dict[str, type[Strategy]] = {
    "pricing": PricingStrategy,
    "selection": SelectionStrategy,
    "retention": RetentionStrategy,
    "localization": LocalizationStrategy,
}
