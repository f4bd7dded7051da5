"""Scenario schema (pydantic v2): one validated, immutable description of a simulated world.

Units are part of every name: ``*_base`` is the scenario's base currency, ``*_local`` the
region's own currency, ``*_days`` / ``*_hours`` time. File reading lives in ``experiments``;
parsing and cross-field checks live in :mod:`sim.validation`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.calendar import DAYS_PER_YEAR, HOURS_PER_DAY, MAX_HORIZON_DAYS
from sim.contract import PaymentMethod

# Bounds that keep the model's arithmetic finite (a file that validates always runs):
#: every amount, rate and duration is at most 1e12 and every positive one at least 1e-9, so
#: products and ratios of two or three of them (costs x units, price / exchange rate, sd /
#: mean) stay far inside float32/float64 range and never write inf into money KPIs
MAX_MAGNITUDE = 1e12
MIN_POSITIVE = 1e-9
#: utility weights and constants: exp(utility) must not overflow in the logit shares and the
#: competitors' best-response root finder (exp(709) is the float64 limit; 3651 overflowed)
MAX_UTILITY = 100.0
#: durations (hours or days): lognormal moments square sd / mean; beyond ~11 years in hours
#: nothing is ever delivered within a horizon anyway
MAX_DURATION = 1e5
#: mean purchase occasions per consumer-day (BG/NBD r / alpha_days) and the seasonal
#: multiplier of that rate: the occasion round repeats while a consumer has another occasion
#: the same day, so the product bounds its work (shipped scenarios: <= 0.04 and <= 1.5)
MAX_DAILY_OCCASION_RATE = 1.0
MAX_SEASONALITY = 5.0
MAX_DAY = 100_000

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Positive = Annotated[float, Field(ge=MIN_POSITIVE, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Utility = Annotated[float, Field(ge=-MAX_UTILITY, le=MAX_UTILITY, allow_inf_nan=False)]
Hours = Annotated[float, Field(ge=0.0, le=MAX_DURATION, allow_inf_nan=False)]
PositiveHours = Annotated[float, Field(ge=MIN_POSITIVE, le=MAX_DURATION, allow_inf_nan=False)]
Day = Annotated[int, Field(ge=0, le=MAX_DAY)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- distributions
class Exponential(_Strict):
    """Exponential service time with the given mean."""

    dist: Literal["exponential"]
    mean: PositiveHours


class LogNormal(_Strict):
    """Log-normal service time parameterised by its mean and standard deviation."""

    dist: Literal["lognormal"]
    mean: PositiveHours
    sd: Hours

    @model_validator(mode="after")
    def _bounded_cv(self) -> LogNormal:
        # log1p((sd / mean) ** 2) must stay finite and the draws within float range
        if self.sd > 100 * self.mean:
            raise ValueError(f"@sd: at most 100 x mean ({100 * self.mean:g}), got {self.sd:g}")
        return self


class Deterministic(_Strict):
    """A fixed duration."""

    dist: Literal["deterministic"]
    value: Hours


Duration = Annotated[Exponential | LogNormal | Deterministic, Field(discriminator="dist")]


# --------------------------------------------------------------------------- regions
class PriceSensitivity(_Strict):
    """Log-normal logit price coefficient across consumers (utility per base-currency unit)."""

    mean: Positive
    cv: Annotated[float, Field(ge=0.0, le=3.0)] = 0.0


class BgNbd(_Strict):
    """BG/NBD repeat purchasing: rate ~ Gamma(r, alpha) per day, dropout ~ Beta(a, b)."""

    r: Positive
    alpha_days: Positive
    a: Positive
    b: Positive
    launch_cohort: bool = False
    """Every consumer has a purchase occasion at the start of day 0 (BG/NBD's time zero)
    with no dropout after it, so a monopolist's customer log is exactly BG/NBD."""

    @model_validator(mode="after")
    def _bounded_rate(self) -> BgNbd:
        rate = self.r / self.alpha_days
        if rate > MAX_DAILY_OCCASION_RATE:
            raise ValueError(
                f"@alpha_days: the mean occasion rate r / alpha_days must be at most "
                f"{MAX_DAILY_OCCASION_RATE:g} per day, got {rate:.6g}"
            )
        return self


class Segment(_Strict):
    """A consumer segment within a region."""

    id: Identifier
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    price_sensitivity: PriceSensitivity
    quality_weight: Utility = 1.0
    eco_weight: Utility = 0.0
    delivery_weight_per_day: NonNegative = 0.05
    payment_preferences: dict[PaymentMethod, Probability] = Field(
        default_factory=lambda: {"card": 1.0}
    )
    repeat: BgNbd | None = None

    @model_validator(mode="after")
    def _payment_shares_sum_to_one(self) -> Segment:
        total = sum(self.payment_preferences.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"@payment_preferences: must sum to 1, got {total:.6g}")
        return self


class Awareness(_Strict):
    """Bass diffusion of awareness of our firm (daily rates)."""

    initial_share: Probability = 0.0
    p_base_daily: NonNegative = 0.0005
    p_per_1k_spend_daily: NonNegative = 0.0
    q_daily: NonNegative = 0.05
    dissatisfied_wom_weight: NonNegative = 1.0


class Fx(_Strict):
    """Exchange rate (local currency per base unit) following a driftless log random walk."""

    local_per_base: Positive
    daily_volatility: Annotated[float, Field(ge=0.0, le=0.2)] = 0.0


class Tax(_Strict):
    """Import duty above the de-minimis threshold and VAT on the consumer price."""

    duty_rate: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    vat_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    de_minimis_local: NonNegative = 0.0
    duty_refunded_on_return: bool = False
    """Whether customs refunds the import duty of a returned (or lost) parcel; VAT is always
    reversed on a refund (it is the consumer's tax, collected and remitted by us)."""


class Regulation(_Strict):
    """Compliance burden: consent-flow friction on our listings and a monthly compliance cost."""

    consent_penalty: NonNegative = 0.0
    compliance_cost_monthly_base: NonNegative = 0.0


class ChoiceParams(_Strict):
    """Region-wide multinomial-logit terms."""

    outside_utility: Utility = 0.0
    machine_translation_penalty: NonNegative = 0.7
    unsupported_payment_penalty: NonNegative = 1.0
    loyalty_weight: Annotated[float, Field(ge=0.0, le=MAX_UTILITY)] = 0.5


class Service(_Strict):
    """How delivery experience moves satisfaction, loyalty and dropout."""

    initial_satisfaction: Probability = 0.7
    satisfaction_learning_rate: Probability = 0.3
    late_satisfaction: Probability = 0.0
    returned_satisfaction: Probability = 0.3
    loyalty_gain_per_order: Probability = 0.2
    late_loyalty_loss: Probability = 0.3
    dissatisfaction_dropout_uplift: NonNegative = 1.0
    dissatisfied_below: Probability = 0.4


class Region(_Strict):
    """One destination market."""

    id: Identifier
    name: str = ""
    population: Annotated[int, Field(ge=1)]
    language: Annotated[str, Field(min_length=2, max_length=16)]
    segments: Annotated[list[Segment], Field(min_length=1)]
    repeat: BgNbd
    awareness: Awareness = Awareness()
    fx: Fx
    tax: Tax = Tax()
    regulation: Regulation = Regulation()
    choice: ChoiceParams = ChoiceParams()
    service: Service = Service()
    category_shares: dict[str, Positive] | None = None
    taboo_tags: list[str] = Field(default_factory=list)
    seasonality: Annotated[
        list[Annotated[float, Field(ge=MIN_POSITIVE, le=MAX_SEASONALITY, allow_inf_nan=False)]],
        Field(min_length=12, max_length=12),
    ] = Field(default_factory=lambda: [1.0] * 12)
    return_multiplier_by_tag: dict[str, NonNegative] = Field(default_factory=dict)
    entrants_yearly_share: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    """New consumers entering the market per year, as a share of ``population`` (they arrive
    unaware, with fresh draws of their segment's parameters). BG/NBD dropout shrinks a market
    over time; entrants offset it or make it grow."""

    @model_validator(mode="after")
    def _segments(self) -> Region:
        total = sum(s.share for s in self.segments)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"@segments: shares must sum to 1, got {total:.6g}")
        _unique((s.id for s in self.segments), "segment id")
        return self


# --------------------------------------------------------------------------- products
class Product(_Strict):
    """One of our products (sourced at the home warehouse)."""

    id: Identifier
    category: Identifier
    unit_cost_base: Positive
    quality: Probability = 0.5
    eco_score: Probability = 0.0
    tags: list[str] = Field(default_factory=list)
    return_probability: Probability = 0.05


# --------------------------------------------------------------------------- competitors
class CompetitorOffer(_Strict):
    """A competitor's offer in one region and category (prices in local currency, landed)."""

    region: Identifier
    category: Identifier
    price_local: Positive
    cost_local: NonNegative = 0.0
    quality: Probability = 0.5
    eco_score: Probability = 0.0
    delivery_days: NonNegative = 3.0


class CompetitorBehaviour(_Strict):
    """How a competitor reprices."""

    kind: Literal["fixed", "match", "undercut", "best_response"] = "fixed"
    reprice_every_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] = 7
    undercut_share: Annotated[float, Field(ge=0.0, le=0.9)] = 0.05
    floor_markup: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    max_price_multiple: Annotated[float, Field(gt=1.0, le=100.0)] = 5.0


class Competitor(_Strict):
    """An incumbent or rival seller."""

    id: Identifier
    behaviour: CompetitorBehaviour = CompetitorBehaviour()
    offers: Annotated[list[CompetitorOffer], Field(min_length=1)]


# --------------------------------------------------------------------------- lanes
class Stage(_Strict):
    """A lane stage served by ``servers`` parallel SimPy servers (one shipment each)."""

    name: Identifier
    servers: Annotated[int, Field(ge=1, le=10_000)]
    service_hours: Duration


class Customs(_Strict):
    """Random customs inspection after a named stage."""

    stage: Identifier
    inspection_probability: Probability = 0.0
    delay_hours: Duration = Deterministic(dist="deterministic", value=0.0)


class Disruption(_Strict):
    """Scheduled capacity loss of one stage over ``[start_day, end_day)``."""

    stage: Identifier
    start_day: Day
    end_day: Annotated[int, Field(ge=1, le=MAX_DAY)]
    capacity_multiplier: Probability

    @model_validator(mode="after")
    def _ordered(self) -> Disruption:
        if self.end_day <= self.start_day:
            raise ValueError(
                f"@end_day: `start_day < end_day` must hold, got {self.start_day=}, {self.end_day=}"
            )
        return self


class Lane(_Strict):
    """A logistics lane from a warehouse to a region."""

    id: Identifier
    origin: Identifier
    destination: Identifier
    mode: Literal["air", "sea", "rail", "road", "local"]
    carries: Literal["orders", "stock"] = "orders"
    stages: Annotated[list[Stage], Field(min_length=1)]
    customs: Customs | None = None
    last_mile_days: Duration = Deterministic(dist="deterministic", value=0.0)
    promised_days: PositiveHours
    departure_hour: Annotated[float, Field(ge=0.0, lt=HOURS_PER_DAY)] = 18.0
    max_units_per_shipment: Annotated[int, Field(ge=1, le=1_000_000_000)] = 1_000_000
    cost_per_unit_base: NonNegative = 0.0
    cost_per_shipment_base: NonNegative = 0.0
    loss_probability: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    disruptions: list[Disruption] = Field(default_factory=list)

    @model_validator(mode="after")
    def _stage_names(self) -> Lane:
        names = [s.name for s in self.stages]
        _unique(names, "stage name")
        if self.customs is not None and self.customs.stage not in names:
            raise ValueError(f"@customs.stage: {self.customs.stage!r} is not one of {names}")
        for d in self.disruptions:
            if d.stage not in names:
                raise ValueError(f"@disruptions: stage {d.stage!r} is not one of {names}")
        return self


# --------------------------------------------------------------------------- firm
class Warehouse(_Strict):
    """A warehouse; ``region`` None means the home (origin) warehouse."""

    id: Identifier
    region: Identifier | None = None
    replenish_from: Identifier = "supplier"
    supplier_lead_days: Annotated[int, Field(ge=0, le=365)] = 14
    """Days from purchase order to stock on hand (supplier replenishment only; a warehouse
    replenished from another warehouse waits for its stock lane instead)."""
    monthly_fixed_cost_base: NonNegative = 0.0
    initial_units: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    """Opening stock of every product (the pre-entry replenishment): bought before day 0 at
    unit cost, shipped and cleared like any replenishment (stock-lane freight and duty of the
    warehouse's region), costed into inventory and paid on day 0 (subject to supplier terms).
    A warehouse abroad with no opening stock opens when its first replenishment arrives; until
    then its region is served cross-border."""
    holding_cost_per_unit_day_base: NonNegative = 0.0
    """Storage and capital cost per unit on hand per day (base currency)."""
    dead_stock_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] | None = None
    """A product with stock here and no sale from here for this many days is dead stock and
    written off at its landed value (None: never written off)."""


class ReorderRule(_Strict):
    """(s, Q) policy: order ``order_quantity`` when the inventory position is <= ``reorder_point``.

    ``product`` omitted applies the rule to every product without a specific rule.
    """

    warehouse: Identifier
    product: Identifier | None = None
    reorder_point: Annotated[int, Field(ge=0, le=10_000_000)]
    order_quantity: Annotated[int, Field(ge=1, le=10_000_000)]


class LocalizationCosts(_Strict):
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


class Finance(_Strict):
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


class Firm(_Strict):
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


# --------------------------------------------------------------------------- strategies
class StrategyChoice(_Strict):
    """A strategy by registry name with its parameters (validated against its declaration)."""

    name: Identifier
    params: dict[str, Any] = Field(default_factory=dict)


class Strategies(_Strict):
    """One strategy per kind and how often the firm reviews its decisions."""

    decision_interval_days: Annotated[int, Field(ge=1, le=365)] = 7
    pricing: StrategyChoice = StrategyChoice(name="cost_plus")
    selection: StrategyChoice = StrategyChoice(name="all_products")
    retention: StrategyChoice = StrategyChoice(name="none")
    localization: StrategyChoice = StrategyChoice(name="none")


class Settings(_Strict):
    """KPI definitions."""

    active_window_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] = 90
    recent_window_days: Annotated[int, Field(ge=1, le=365)] = 28


# --------------------------------------------------------------------------- scenario
class Scenario(_Strict):
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


def _unique(values: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)


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
