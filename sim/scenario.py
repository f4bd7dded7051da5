"""Scenario schema (pydantic v2): one validated, immutable description of a simulated world.

Units are part of every name: ``*_base`` is the scenario's base currency, ``*_local`` the
region's own currency, ``*_days`` / ``*_hours`` time. File reading lives in ``experiments``;
parsing and cross-field checks live in :mod:`sim.validation`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from sim.calendar import DAYS_PER_YEAR, MAX_HORIZON_DAYS
from sim.contract import PaymentMethod
from sim.events import Event
from sim.schema_acquisition import Acquisition, Channel
from sim.schema_budget import BudgetRule
from sim.schema_experience import Experience
from sim.schema_fit import FitPrior, LaunchTerms
from sim.schema_region import (
    Awareness,
    BgNbd,
    ChoiceParams,
    Deterministic,
    Duration,
    Exponential,
    Fx,
    LogNormal,
    Payments,
    PriceSensitivity,
    Region,
    Regulation,
    Segment,
    Service,
    Tax,
)
from sim.schema_retention import TrialPack
from sim.schema_sales import Bundles
from sim.schema_staffing import Staffing
from sim.schema_supply import (
    Competitor,
    CompetitorBehaviour,
    CompetitorOffer,
    Customs,
    Disruption,
    Lane,
    Product,
    ReorderRule,
    Stage,
    Warehouse,
)
from sim.schema_types import (
    MAX_DAILY_OCCASION_RATE,
    MAX_DAY,
    MAX_DURATION,
    MAX_MAGNITUDE,
    MAX_SEASONALITY,
    MAX_UTILITY,
    MIN_POSITIVE,
    Day,
    Hours,
    Identifier,
    NonNegative,
    Positive,
    PositiveHours,
    Probability,
    Strict,
    Utility,
)

#: the schema in one namespace: blocks live in sim.schema_types / schema_region / schema_supply
__all__ = [
    "MAX_DAILY_OCCASION_RATE",
    "MAX_DAY",
    "MAX_DURATION",
    "MAX_MAGNITUDE",
    "MAX_SEASONALITY",
    "MAX_UTILITY",
    "MIN_POSITIVE",
    "Acquisition",
    "Awareness",
    "BgNbd",
    "BudgetRule",
    "Channel",
    "ChoiceParams",
    "Competitor",
    "CompetitorBehaviour",
    "CompetitorOffer",
    "Customs",
    "Day",
    "Deterministic",
    "Disruption",
    "Duration",
    "Expectation",
    "Experience",
    "Exponential",
    "Finance",
    "Firm",
    "FitPrior",
    "Fx",
    "Hours",
    "Identifier",
    "Lane",
    "LaunchTerms",
    "LeverExpectation",
    "LeverId",
    "LocalizationCosts",
    "LogNormal",
    "NonNegative",
    "Payments",
    "Positive",
    "PositiveHours",
    "PriceSensitivity",
    "Probability",
    "Product",
    "Region",
    "Regulation",
    "ReorderRule",
    "Scenario",
    "Segment",
    "Service",
    "Settings",
    "SettlementDays",
    "Staffing",
    "Stage",
    "Strategies",
    "StrategyChoice",
    "Strict",
    "Tax",
    "TrialPack",
    "Utility",
    "Valuation",
    "Warehouse",
    "local_lane",
    "max_entrants",
    "outbound_lane",
]


class LocalizationCosts(Strict):
    """One-off setup and monthly running costs of the localization levers (base currency)."""

    human_translation_setup_base: NonNegative = 0.0
    human_translation_monthly_base: NonNegative = 0.0
    payment_method_setup_base: NonNegative = 0.0
    payment_method_monthly_base: NonNegative = 0.0
    local_service_setup_base: NonNegative = 0.0
    local_service_monthly_base: NonNegative = 0.0
    local_service_late_softening: Probability = 0.5
    local_warehouse_setup_base: NonNegative = 0.0


#: days from sale to cash per payment method (acquirer / courier practice): cards D+2,
#: e-wallets and mobile money D+1, bank transfer D+1, COD remitted by couriers weekly to
#: fortnightly (~10 days), instalments paid by the acquirer per instalment (~30 days on average,
#: Brazil's "parcelado" without anticipation)
DEFAULT_SETTLEMENT_DAYS: dict[str, int] = {
    "card": 2,
    "ewallet": 1,
    "cod": 10,
    "instalments": 30,
    "mobile_money": 1,
    "bank_transfer": 1,
}
SettlementDays = Annotated[int, Field(ge=0, le=365)]


class Finance(Strict):
    """Working capital: supplier terms, settlement delays and the credit line."""

    supplier_payment_days: Annotated[int, Field(ge=0, le=365)] = 0
    """Days from a supplier delivery (stock on hand) to paying for it."""
    settlement_days: dict[PaymentMethod, SettlementDays] = Field(
        default_factory=lambda: dict(DEFAULT_SETTLEMENT_DAYS)
    )
    """Days from a sale to its cash per payment method; methods not named keep the default."""
    credit_limit_base: NonNegative | None = None
    """Most the firm may borrow; None: unlimited (interest is still charged). When cash plus
    credit runs out, spending that can stop (reorders, marketing, retention) stops."""
    credit_interest_annual: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Annual interest on credit drawn (charged daily, 365-day year)."""

    def settlement_days_of(self, method: str) -> int:
        """Settlement days of ``method`` (the default when the file does not name it)."""
        return self.settlement_days.get(method, DEFAULT_SETTLEMENT_DAYS[method])  # type: ignore[call-overload]


class Firm(Strict):
    """Our seller."""

    starting_cash_base: Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)] = 0.0
    source_language: Annotated[str, Field(min_length=2, max_length=16)] = "en"
    warehouses: Annotated[list[Warehouse], Field(min_length=1, max_length=100)]
    inventory_policy: list[ReorderRule] = Field(default_factory=list)
    marketing_budget_monthly_base: dict[str, NonNegative | list[NonNegative]] = Field(
        default_factory=dict
    )
    fixed_costs_monthly_base: NonNegative = 0.0
    payment_fee_rate: dict[PaymentMethod, Annotated[float, Field(ge=0.0, le=0.5)]] = Field(
        default_factory=lambda: {"card": 0.03}
    )
    supported_payment_methods: list[PaymentMethod] = Field(default_factory=lambda: ["card"])
    fx_conversion_fee: Annotated[float, Field(ge=0.0, le=0.2)] = 0.01
    fulfilment: dict[str, Identifier] = Field(default_factory=dict)
    entry_day_by_region: dict[str, Day] = Field(default_factory=dict)
    """Day our firm enters each region (default 0); before it: no listings, marketing,
    localization or compliance costs, and no awareness growth. A day past the horizon means
    the region is not entered."""
    localization_costs: LocalizationCosts = LocalizationCosts()
    finance: Finance = Finance()
    bundles: Bundles | None = None
    """A bundle offer for growing customers (see :class:`sim.schema_sales.Bundles`)."""
    launch: LaunchTerms = LaunchTerms()
    """Launch cost and stock commitment of every new listing (``sim.fit``; default: free)."""
    trial_pack: TrialPack | None = None
    """First-time buyers' first order at a trial price (None: no trial pack)."""
    staffing: Staffing | None = None
    """An operations team that steps with the orders (``sim.staffing``; None: no team beyond
    ``fixed_costs_monthly_base``)."""


# --------------------------------------------------------------------------- strategies
class StrategyChoice(Strict):
    """A strategy by registry name with its parameters (validated against its declaration)."""

    name: Identifier
    params: dict[str, Any] = Field(default_factory=dict)


class Strategies(Strict):
    """One strategy per kind and how often the firm reviews its decisions."""

    decision_interval_days: Annotated[int, Field(ge=1, le=365)] = 7
    pricing: StrategyChoice = StrategyChoice(name="cost_plus")
    selection: StrategyChoice = StrategyChoice(name="all_products")
    retention: StrategyChoice = StrategyChoice(name="none")
    localization: StrategyChoice = StrategyChoice(name="none")


class Settings(Strict):
    """KPI definitions."""

    active_window_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] = 90
    recent_window_days: Annotated[int, Field(ge=1, le=365)] = 28


class Expectation(Strict):
    """A range the scenario's author expects a measured fact to fall in, and why (for facts
    DOMAIN gives no figure for, e.g. a newcomer's first-year share; ``marketsim check``)."""

    low: Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]
    high: Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]
    source: Annotated[str, Field(min_length=1, max_length=2_000)]
    """The reasoning or the study behind the range (required)."""

    @model_validator(mode="after")
    def _ordered(self) -> Expectation:
        if self.low > self.high:
            raise ValueError(f"`low <= high` must hold, got low={self.low}, high={self.high}")
        return self


#: a lever row's id in ``marketsim check``'s lever table: ``kind=strategy`` for a built-in
#: strategy (e.g. ``pricing=competitive_index``) or a planner lever's name (``local_service``)
LeverId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.=-]*$", max_length=96)]


class LeverExpectation(Strict):
    """What a lever of ``marketsim check`` should move in this scenario, and why: replaces
    the check's built-in statement for this scenario only (its rivals, say, follow our price
    where the built-in one assumes they hold theirs). The KPI and lever id are checked
    against the lever table by ``marketsim check``."""

    kpi: Annotated[str, Field(min_length=1, max_length=64)]
    """The KPI the lever should move (one of ``experiments.check.levers.METRICS``)."""
    direction: Literal["up", "down", "none"]
    """``none``: the scenario states no direction (the effect is shown without a verdict)."""
    source: Annotated[str, Field(min_length=1, max_length=2_000)]
    """The reasoning or the study behind the statement (required)."""


class Valuation(Strict):
    """How the horizon is valued (``sim.equity``): customer equity and planner KPIs."""

    discount_rate_annual: Annotated[float, Field(ge=0.0, le=1.0)] = 0.10
    """Discount rate per 365-day year of the customers' future contribution."""
    equity_years: Annotated[int, Field(ge=0, le=10)] = 3
    """Years of future purchases valued at the horizon (0: no customer equity)."""
    contribution_window_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] = 90
    """Last days of the run whose orders give the contribution per order."""
    repurchase_window_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] = 365
    """W of the repurchase rate: second order within W days of the first."""


# --------------------------------------------------------------------------- scenario
class Scenario(Strict):
    """A complete world: regions, products, competitors, lanes, our firm and its strategies."""

    name: Identifier
    description: str = ""
    horizon_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)]
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    regions: Annotated[list[Region], Field(min_length=1, max_length=64)]
    products: Annotated[list[Product], Field(min_length=1, max_length=5_000)]
    competitors: list[Competitor] = Field(default_factory=list)
    lanes: Annotated[list[Lane], Field(min_length=1, max_length=1_000)]
    firm: Firm
    strategies: Strategies = Strategies()
    settings: Settings = Settings()
    events: Annotated[list[Event], Field(max_length=1_000)] = Field(default_factory=list)
    """Dated policy and market shocks (``sim.events``), applied at the start of their day."""
    valuation: Valuation = Valuation()
    expectations: Annotated[dict[Identifier, Expectation], Field(max_length=64)] = Field(
        default_factory=dict
    )
    """Ranges this scenario's author states for facts without a DOMAIN figure, by fact id."""
    lever_expectations: Annotated[dict[LeverId, LeverExpectation], Field(max_length=64)] = Field(
        default_factory=dict
    )
    """What this scenario's author says a lever of the check should move here, by lever id."""

    # convenient lookups ------------------------------------------------------
    @property
    def categories(self) -> list[str]:
        """Product categories in first-seen order."""
        return list(dict.fromkeys(p.category for p in self.products))

    def region_index(self, region_id: str) -> int:
        """Position of a region in ``regions``."""
        return [r.id for r in self.regions].index(region_id)

    def total_population(self) -> int:
        """Consumers across all regions."""
        return sum(r.population for r in self.regions)


def max_entrants(region: Region, horizon_days: int) -> int:
    """Slots needed for the market entrants of ``region`` over ``horizon_days``."""
    return math.ceil(
        region.population * region.entrants_yearly_share * horizon_days / DAYS_PER_YEAR
    )


def outbound_lane(scenario: Scenario, region_id: str) -> Lane | None:
    """The cross-border lane serving ``region_id`` from a home warehouse."""
    lanes = {lane.id: lane for lane in scenario.lanes}
    if region_id in scenario.firm.fulfilment:
        return lanes[scenario.firm.fulfilment[region_id]]
    home = {w.id for w in scenario.firm.warehouses if w.region is None}
    for lane in scenario.lanes:
        if lane.destination == region_id and lane.carries == "orders" and lane.origin in home:
            return lane
    return None


def local_lane(scenario: Scenario, region_id: str) -> Lane | None:
    """The lane carrying orders to ``region_id`` from a warehouse abroad (not a home one).

    A warehouse located in the region comes first; otherwise a regional warehouse in another
    region (e.g. Poland serving Germany) that has a lane carrying orders here. Orders from
    such a warehouse are domestic for duty purposes (one customs area, import duty paid when
    stock enters the warehouse's region).
    """
    own = {w.id for w in scenario.firm.warehouses if w.region == region_id}
    regional = {w.id for w in scenario.firm.warehouses if w.region is not None} - own
    for candidates in (own, regional):
        for lane in scenario.lanes:
            if (
                lane.destination == region_id
                and lane.carries == "orders"
                and lane.origin in candidates
            ):
                return lane
    return None
