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

from sim.errors import StrategyError

Kind = Literal["pricing", "selection", "retention", "localization"]
KINDS: tuple[Kind, ...] = ("pricing", "selection", "retention", "localization")
ParamType = Literal["float", "int", "bool", "choice", "str_list", "mapping"]


class ParamError(ValueError):
    """A parameter value is invalid below its top level; ``path`` is the suffix, e.g. ``.XA.cod``.

    :func:`resolve_params` appends ``path`` to ``params.<name>`` in the reported field path.
    """

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(message)


_SCALAR = bool | int | float | str


@dataclass(frozen=True)
class Param:
    """One declared strategy parameter: the single source for YAML validation, docs and tuning.

    Types: ``float`` and ``int`` (with ``low``/``high`` bounds, optionally ``log``-scaled),
    ``bool``, ``choice`` (one of ``choices``), ``str_list`` (a list of names; restricted to
    ``choices`` when given) and ``mapping`` (not tunable): a mapping from names to records
    whose fields are declared by ``fields`` (e.g. per-region settings), or, without
    ``fields``, a flat mapping of names to scalars or lists of names (e.g. the parameters of
    a wrapped strategy, checked by the strategy's :meth:`Strategy.validate_values`).
    """

    name: str
    type: ParamType
    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    fields: tuple[Param, ...] = ()

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
        if self.fields and self.type != "mapping":
            raise ValueError(f"only mapping parameters have fields ({self.name!r})")
        if self.type == "mapping" and not isinstance(self.default, Mapping):
            raise ValueError(f"default of mapping parameter {self.name!r} must be a mapping")
        if self.type != "str_list" or self.choices:
            self.validate(self.default)

    def __hash__(self) -> int:
        # the default of a mapping parameter is a dict; hash what identifies the declaration
        return hash((self.name, self.type, self.low, self.high, self.log, self.choices))

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
        if self.type == "str_list":
            names = f" from {list(self.choices)}" if self.choices else ""
            return f"list of names{names}, default {list(self.default)!r}"
        if self.type == "mapping":
            if self.fields:
                inner = ", ".join(f"{f.name}: {f._short_type()}" for f in self.fields)
                return f"mapping name -> {{{inner}}} (not tuned), default {dict(self.default)!r}"
            return f"mapping name -> value (not tuned), default {dict(self.default)!r}"
        return f"{self.type}, default {self.default!r}"

    def _short_type(self) -> str:
        if self.type in ("float", "int"):
            return f"{self.type} in [{self.low:g}, {self.high:g}]"
        if self.type == "choice":
            return "|".join(self.choices)
        if self.type == "str_list":
            return f"[{'|'.join(self.choices)}]" if self.choices else "[names]"
        return self.type

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
        if self.type == "mapping":
            return self._validate_mapping(value)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of names, got {value!r}")
        if self.choices:
            for i, v in enumerate(value):
                if v not in self.choices:
                    raise ParamError(f"[{i}]", f"expected one of {list(self.choices)}, got {v!r}")
        return tuple(value)

    def _validate_mapping(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a mapping, got {value!r}")
        out: dict[str, Any] = {}
        declared = {f.name: f for f in self.fields}
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"keys must be non-empty names, got {key!r}")
            if not self.fields:
                if isinstance(item, list | tuple):
                    if not all(isinstance(v, str) for v in item):
                        raise ParamError(f".{key}", f"expected a list of names, got {item!r}")
                    out[key] = tuple(item)
                elif isinstance(item, _SCALAR):
                    out[key] = item
                else:
                    raise ParamError(f".{key}", f"expected a number, name or list, got {item!r}")
                continue
            if not isinstance(item, Mapping):
                raise ParamError(f".{key}", f"expected a mapping of {sorted(declared)}")
            record: dict[str, Any] = {}
            for fname, fvalue in item.items():
                field_ = declared.get(fname)
                if field_ is None:
                    raise ParamError(f".{key}.{fname}", f"unknown field; known: {sorted(declared)}")
                try:
                    record[fname] = field_.validate(fvalue)
                except ParamError as exc:
                    raise ParamError(f".{key}.{fname}{exc.path}", str(exc)) from None
                except ValueError as exc:
                    raise ParamError(f".{key}.{fname}", str(exc)) from None
            out[key] = record
        return out


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
        except ParamError as exc:
            problems.append((f"params.{name}{exc.path}", str(exc)))
        except ValueError as exc:
            problems.append((f"params.{name}", str(exc)))
    if not problems:
        problems.extend(cls.validate_values(out))
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
