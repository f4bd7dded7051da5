"""Strategy interfaces: parameter declarations, the read-only market view and decisions.

A strategy reads a :class:`MarketView` built by the model (only what a real seller could
observe) and returns a plain-data decision; the model validates, applies and books it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import numpy as np

Kind = Literal["pricing", "selection", "retention", "localization"]
KINDS: tuple[Kind, ...] = ("pricing", "selection", "retention", "localization")
ParamType = Literal["float", "int", "bool", "choice", "str_list"]


class StrategyError(ValueError):
    """A strategy name, parameter or decision is invalid.

    ``problems`` holds ``(field_path, message)`` pairs relative to the strategy entry.
    """

    def __init__(self, problems: list[tuple[str, str]] | str):
        if isinstance(problems, str):
            problems = [("", problems)]
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))


@dataclass(frozen=True)
class Param:
    """One declared strategy parameter: the single source for YAML validation, docs and tuning."""

    name: str
    type: ParamType
    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""

    def __post_init__(self) -> None:
        if self.type in ("float", "int"):
            if self.low is None or self.high is None or not self.low <= self.high:
                raise ValueError(
                    f"`low <= high` must hold for {self.name!r}, got {self.low=}, {self.high=}"
                )
            if self.log and self.low <= 0:
                raise ValueError(f"log-scaled {self.name!r} needs low > 0, got {self.low=}")
        if self.type == "choice" and self.default not in self.choices:
            raise ValueError(f"default {self.default!r} of {self.name!r} not in {self.choices}")
        if self.type != "str_list":
            self.validate(self.default)

    @property
    def tunable(self) -> bool:
        """Whether Optuna can search this parameter."""
        return self.type in ("float", "int", "bool", "choice")

    def describe(self) -> str:
        """Type, default and bounds in one line (used by ``marketsim strategies``)."""
        if self.type in ("float", "int"):
            scale = ", log" if self.log else ""
            return f"{self.type} in [{self.low:g}, {self.high:g}]{scale}, default {self.default!r}"
        if self.type == "choice":
            return f"one of {list(self.choices)}, default {self.default!r}"
        return f"{self.type}, default {self.default!r}"

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to the declared type, or raise ``ValueError``."""
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, got {value!r}")
            return value
        if self.type in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"expected a number, got {value!r}")
            if self.type == "int" and not float(value).is_integer():
                raise ValueError(f"expected a whole number, got {value!r}")
            if not math.isfinite(value) or not self.low <= value <= self.high:  # type: ignore[operator]
                raise ValueError(f"expected {self.low:g} <= value <= {self.high:g}, got {value!r}")
            return int(value) if self.type == "int" else float(value)
        if self.type == "choice":
            if value not in self.choices:
                raise ValueError(f"expected one of {list(self.choices)}, got {value!r}")
            return value
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of names, got {value!r}")
        return tuple(value)


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
    def check(cls, values: Mapping[str, Any], context: Any) -> list[tuple[str, str]]:
        """Cross-checks against the scenario (``context``); override where needed."""
        return []

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({args})"


def resolve_params(cls: type[Strategy], values: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults and validate ``values`` against ``cls.params``; raise ``StrategyError``."""
    declared = {p.name: p for p in cls.params}
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    for key in values:
        if key not in declared:
            problems.append(
                (f"params.{key}", f"unknown parameter of {cls.name!r}; known: {sorted(declared)}")
            )
    for name, param in declared.items():
        raw = values.get(name, param.default)
        try:
            out[name] = param.validate(raw)
        except ValueError as exc:
            problems.append((f"params.{name}", str(exc)))
    if problems:
        raise StrategyError(problems)
    return out


# ----------------------------------------------------------------------------- views
def frozen_array(values: Any, dtype: Any = None) -> np.ndarray:
    """A read-only copy, so a strategy cannot write into the model through its view."""
    arr = np.array(values, dtype=dtype, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class CustomerView:
    """Our own customers in one region, as RFM arrays (one entry per customer)."""

    customer_ids: np.ndarray
    recency_days: np.ndarray
    frequency: np.ndarray
    monetary_base: np.ndarray
    satisfaction: np.ndarray
    tenure_days: np.ndarray


@dataclass(frozen=True)
class LocalizationChoice:
    """Localization levers in one region."""

    human_translation: bool = False
    payment_methods: frozenset[str] = frozenset()
    local_warehouse: bool = False
    local_service: bool = False


@dataclass(frozen=True)
class RegionView:
    """What our firm can observe in one region (arrays are per product unless noted)."""

    region_id: str
    language: str
    taboo_tags: frozenset[str]
    fx_local_per_base: float
    fx_reference_local_per_base: float
    vat_rate: float
    duty_rate: float
    de_minimis_local: float
    has_local_warehouse_option: bool
    listed: np.ndarray
    listed_since_day: np.ndarray
    price_local: np.ndarray
    landed_cost_base: np.ndarray
    inventory_units: np.ndarray
    units_sold_recent: np.ndarray
    views_recent: np.ndarray
    revenue_recent_base: np.ndarray
    competitor_ids: tuple[str, ...]
    competitor_categories: tuple[str, ...]
    competitor_price_local: np.ndarray
    competitor_price_change_recent: np.ndarray
    customers: CustomerView
    marketing_spent_base: float
    localization: LocalizationChoice
    mean_delivery_days_recent: float
    on_time_rate_recent: float
    price_history_local: np.ndarray = field(repr=False, default_factory=lambda: frozen_array([]))
    units_history: np.ndarray = field(repr=False, default_factory=lambda: frozen_array([]))
    views_history: np.ndarray = field(repr=False, default_factory=lambda: frozen_array([]))

    @property
    def conversion_recent(self) -> np.ndarray:
        """Units per view over the recent window (0 where never viewed)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            conv = np.where(self.views_recent > 0, self.units_sold_recent / self.views_recent, 0.0)
        return frozen_array(conv)


@dataclass(frozen=True)
class MarketView:
    """A read-only snapshot of the market for our firm's strategies."""

    day: int
    horizon_days: int
    decision_interval_days: int
    recent_window_days: int
    currency: str
    product_ids: tuple[str, ...]
    product_categories: tuple[str, ...]
    product_tags: tuple[frozenset[str], ...]
    unit_cost_base: np.ndarray
    quality: np.ndarray
    eco_score: np.ndarray
    regions: Mapping[str, RegionView]

    @property
    def region_ids(self) -> tuple[str, ...]:
        """Region ids in scenario order."""
        return tuple(self.regions)


# ----------------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class PricingDecision:
    """Price in local currency (before duty and VAT) per product, per region."""

    prices_local: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class SelectionDecision:
    """Which products are listed, per region (boolean per product)."""

    listed: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class RetentionAction:
    """One intervention aimed at a group of our customers in one region."""

    region_id: str
    action: str
    customer_ids: np.ndarray
    cost_per_customer_base: float
    dropout_multiplier: float = 1.0
    rate_multiplier: float = 1.0
    utility_bonus: float = 0.0
    duration_days: int = 30
    rebate_share: float = 0.0


@dataclass(frozen=True)
class RetentionDecision:
    """Retention actions to start now."""

    actions: tuple[RetentionAction, ...] = ()


@dataclass(frozen=True)
class LocalizationDecision:
    """Localization levers per region (regions not named keep their current choice)."""

    choices: Mapping[str, LocalizationChoice]


# ----------------------------------------------------------------------------- kinds
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
