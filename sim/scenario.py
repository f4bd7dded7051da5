"""Scenario schema (pydantic v2): one validated, immutable description of a simulated world.

Units are part of every name: ``*_base`` is the scenario's base currency, ``*_local`` the
region's own currency, ``*_days`` / ``*_hours`` time. File reading lives in ``experiments``;
this module only turns already-parsed data into a :class:`Scenario` or a :class:`ScenarioError`
that lists every problem with its field path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import Problem, ScenarioError

PAYMENT_METHODS = ("card", "ewallet", "cod", "instalments", "mobile_money", "bank_transfer")
PaymentMethod = Literal["card", "ewallet", "cod", "instalments", "mobile_money", "bank_transfer"]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

#: Bytes held per consumer by the vectorized population (see ``sim.consumers``), with headroom
#: for the per-day temporaries. Used to refuse absurd populations before allocating anything.
BYTES_PER_CONSUMER = 96
MAX_POPULATION_PER_REGION = 200_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- distributions
class Exponential(_Strict):
    """Exponential service time with the given mean."""

    dist: Literal["exponential"]
    mean: Positive


class LogNormal(_Strict):
    """Log-normal service time parameterised by its mean and standard deviation."""

    dist: Literal["lognormal"]
    mean: Positive
    sd: NonNegative


class Deterministic(_Strict):
    """A fixed duration."""

    dist: Literal["deterministic"]
    value: NonNegative


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


class Segment(_Strict):
    """A consumer segment within a region."""

    id: Identifier
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    price_sensitivity: PriceSensitivity
    quality_weight: float = 1.0
    eco_weight: float = 0.0
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


class Regulation(_Strict):
    """Compliance burden: consent-flow friction on our listings and a monthly compliance cost."""

    consent_penalty: NonNegative = 0.0
    compliance_cost_monthly_base: NonNegative = 0.0


class ChoiceParams(_Strict):
    """Region-wide multinomial-logit terms."""

    outside_utility: float = 0.0
    machine_translation_penalty: NonNegative = 0.7
    unsupported_payment_penalty: NonNegative = 1.0
    loyalty_weight: NonNegative = 0.5


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
    seasonality: Annotated[list[Positive], Field(min_length=12, max_length=12)] = Field(
        default_factory=lambda: [1.0] * 12
    )
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
    reprice_every_days: Annotated[int, Field(ge=1, le=3650)] = 7
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
    start_day: Annotated[int, Field(ge=0)]
    end_day: Annotated[int, Field(ge=1)]
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
    promised_days: Positive
    departure_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 18.0
    max_units_per_shipment: Annotated[int, Field(ge=1)] = 1_000_000
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


class Firm(_Strict):
    """Our seller."""

    starting_cash_base: float = 0.0
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
    entry_day_by_region: dict[str, Annotated[int, Field(ge=0, le=100_000)]] = Field(
        default_factory=dict
    )
    """Day our firm enters each region (default 0); before it: no listings, marketing,
    localization or compliance costs, and no awareness growth. A day past the horizon means
    the region is not entered."""
    localization_costs: LocalizationCosts = LocalizationCosts()


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

    active_window_days: Annotated[int, Field(ge=1, le=3650)] = 90
    recent_window_days: Annotated[int, Field(ge=1, le=365)] = 28


# --------------------------------------------------------------------------- scenario
class Scenario(_Strict):
    """A complete world: regions, products, competitors, lanes, our firm and its strategies."""

    name: Identifier
    description: str = ""
    horizon_days: Annotated[int, Field(ge=1, le=3650)]
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


def format_path(loc: Iterable[int | str]) -> str:
    """Turn a pydantic location tuple into ``regions[2].fx.daily_volatility``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("exponential", "lognormal", "deterministic"):
            continue  # discriminated-union tag, not a field the user wrote
        else:
            out += f".{part}" if out else str(part)
    return out


def memory_limit_bytes() -> int:
    """Half the physical memory of this machine: the most a run may plan to hold."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def max_entrants(region: Region, horizon_days: int) -> int:
    """Slots needed for the market entrants of ``region`` over ``horizon_days``."""
    return math.ceil(region.population * region.entrants_yearly_share * horizon_days / 365)


def estimate_memory_bytes(data: Mapping[str, Any]) -> int:
    """Estimate the memory a run needs from raw (unvalidated) scenario data."""
    total = 0
    horizon = data.get("horizon_days") if isinstance(data, Mapping) else None
    years = horizon / 365 if isinstance(horizon, int) and 0 < horizon <= 3650 else 10.0
    regions = data.get("regions") if isinstance(data, Mapping) else None
    for region in regions if isinstance(regions, list) else []:
        if not isinstance(region, Mapping):
            continue
        pop, growth = region.get("population"), region.get("entrants_yearly_share", 0.0)
        if not isinstance(growth, int | float) or not 0 <= growth <= 5:
            growth = 0.0
        if isinstance(pop, int | float) and math.isfinite(pop) and pop > 0:
            total += int(pop * (1 + growth * years)) * BYTES_PER_CONSUMER
    return total


def parse_scenario(
    data: Any, source: str = "<scenario>", *, memory_limit: int | None = None
) -> Scenario:
    """Validate parsed YAML data into a :class:`Scenario`.

    Problems are reported all at once: first every schema problem; when the schema holds,
    every cross-reference and strategy-parameter problem. Sizes that cannot fit in memory are
    refused from the raw numbers, before anything is allocated.

    Raises:
        ScenarioError: listing each problem with ``source``, field path and expectation.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [Problem(source, "", f"expected a mapping at the top level, got {type(data).__name__}")]
        )
    problems: list[Problem] = []
    limit = memory_limit_bytes() if memory_limit is None else memory_limit
    need = estimate_memory_bytes(data)
    if need > limit:
        problems.append(
            Problem(
                source,
                "regions[*].population",
                f"the populations need about {need / 2**30:.1f} GiB "
                f"({BYTES_PER_CONSUMER} bytes per consumer), more than the "
                f"{limit / 2**30:.1f} GiB allowed on this machine",
            )
        )
    for i, region in enumerate(data.get("regions") or []):
        pop = region.get("population") if isinstance(region, Mapping) else None
        if isinstance(pop, int) and pop > MAX_POPULATION_PER_REGION:
            problems.append(
                Problem(
                    source,
                    f"regions[{i}].population",
                    f"at most {MAX_POPULATION_PER_REGION:,} consumers per region, got {pop:,}",
                )
            )
    if problems:
        raise ScenarioError(problems)
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(validation_problems(source, exc)) from None
    problems = check_references(scenario, source)
    if problems:
        raise ScenarioError(problems)
    return scenario


def validation_problems(source: str, exc: ValidationError, prefix: str = "") -> list[Problem]:
    """Every pydantic error of ``exc`` as a :class:`Problem` with its field path."""
    out = []
    for e in exc.errors():
        sub = format_path(_split_field(e)[0])
        path = f"{prefix}.{sub}" if prefix and sub else prefix or sub
        out.append(Problem(source, path, _message(e)))
    return out


def _split_field(error: Mapping[str, Any]) -> tuple[tuple[Any, ...], str]:
    """Location and message; an object-level check names its field as ``@field: message``."""
    loc = tuple(error["loc"])
    msg = str(error["msg"])
    if error.get("type") == "value_error":
        msg = msg.removeprefix("Value error, ")
        if msg.startswith("@") and ": " in msg:
            field, msg = msg[1:].split(": ", 1)
            loc = (*loc, *field.split("."))
    return loc, msg


def _message(error: Mapping[str, Any]) -> str:
    msg = _split_field(error)[1]
    if error.get("type") == "value_error" and isinstance(error.get("input"), Mapping | list):
        return msg  # the whole object would only repeat the file
    if error.get("type") == "extra_forbidden":
        return "unknown field (not part of the scenario format)"
    if error.get("type") == "missing":
        return "required field is missing"
    if "input" in error and error.get("type") not in ("missing",):
        shown = repr(error["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"{msg}; got {shown}"
    return msg


def _unique(values: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)


def check_references(scenario: Scenario, source: str) -> list[Problem]:
    """Cross-field checks: ids unique and every reference pointing at something that exists."""
    problems: list[Problem] = []

    def bad(path: str, message: str) -> None:
        problems.append(Problem(source, path, message))

    def dupes(items: list[str], path: str, what: str) -> None:
        seen: set[str] = set()
        for i, v in enumerate(items):
            if v in seen:
                bad(f"{path}[{i}].id", f"duplicate {what} id {v!r}")
            seen.add(v)

    region_ids = [r.id for r in scenario.regions]
    product_ids = [p.id for p in scenario.products]
    warehouse_ids = [w.id for w in scenario.firm.warehouses]
    lane_ids = [lane.id for lane in scenario.lanes]
    categories = scenario.categories
    dupes(region_ids, "regions", "region")
    dupes(product_ids, "products", "product")
    dupes([c.id for c in scenario.competitors], "competitors", "competitor")
    dupes(lane_ids, "lanes", "lane")
    dupes(warehouse_ids, "firm.warehouses", "warehouse")

    for i, region in enumerate(scenario.regions):
        for cat in region.category_shares or {}:
            if cat not in categories:
                bad(f"regions[{i}].category_shares.{cat}", f"unknown category; known: {categories}")
    for ci, comp in enumerate(scenario.competitors):
        for oi, offer in enumerate(comp.offers):
            path = f"competitors[{ci}].offers[{oi}]"
            if offer.region not in region_ids:
                bad(f"{path}.region", f"unknown region {offer.region!r}; known: {region_ids}")
            if offer.category not in categories:
                bad(f"{path}.category", f"unknown category {offer.category!r}; known: {categories}")
            if comp.behaviour.kind == "best_response" and offer.cost_local <= 0:
                bad(f"{path}.cost_local", "best_response pricing needs a positive cost_local")

    home = [w.id for w in scenario.firm.warehouses if w.region is None]
    if not home:
        bad("firm.warehouses", "at least one home warehouse (no `region`) is required")
    for wi, wh in enumerate(scenario.firm.warehouses):
        if wh.region is not None and wh.region not in region_ids:
            bad(
                f"firm.warehouses[{wi}].region",
                f"unknown region {wh.region!r}; known: {region_ids}",
            )
        if wh.replenish_from != "supplier":
            if wh.replenish_from not in warehouse_ids or wh.replenish_from == wh.id:
                bad(
                    f"firm.warehouses[{wi}].replenish_from",
                    f"expected 'supplier' or another warehouse id {warehouse_ids}, "
                    f"got {wh.replenish_from!r}",
                )
            elif not any(
                lane.origin == wh.replenish_from
                and lane.destination == wh.region
                and lane.carries == "stock"
                for lane in scenario.lanes
            ):
                bad(
                    f"firm.warehouses[{wi}].replenish_from",
                    f"no lane carrying stock from {wh.replenish_from!r} to region {wh.region!r}",
                )
    for li, lane in enumerate(scenario.lanes):
        if lane.origin not in warehouse_ids:
            bad(f"lanes[{li}].origin", f"unknown warehouse {lane.origin!r}; known: {warehouse_ids}")
        if lane.destination not in region_ids:
            bad(
                f"lanes[{li}].destination",
                f"unknown region {lane.destination!r}; known: {region_ids}",
            )
        for di, d in enumerate(lane.disruptions):
            if d.start_day >= scenario.horizon_days:
                bad(f"lanes[{li}].disruptions[{di}].start_day", "starts after the horizon")
    for ri, rule in enumerate(scenario.firm.inventory_policy):
        if rule.warehouse not in warehouse_ids:
            bad(
                f"firm.inventory_policy[{ri}].warehouse",
                f"unknown warehouse {rule.warehouse!r}; known: {warehouse_ids}",
            )
        if rule.product is not None and rule.product not in product_ids:
            bad(f"firm.inventory_policy[{ri}].product", f"unknown product {rule.product!r}")
    for region_id, budget in scenario.firm.marketing_budget_monthly_base.items():
        path = f"firm.marketing_budget_monthly_base.{region_id}"
        if region_id not in region_ids:
            bad(path, f"unknown region; known: {region_ids}")
        if isinstance(budget, list) and len(budget) != 12:
            bad(path, f"expected one number or 12 monthly numbers, got {len(budget)}")
    lanes_by_id = {lane.id: lane for lane in scenario.lanes}
    for region_id in scenario.firm.entry_day_by_region:
        if region_id not in region_ids:
            bad(f"firm.entry_day_by_region.{region_id}", f"unknown region; known: {region_ids}")
    for region_id, lane_id in scenario.firm.fulfilment.items():
        path = f"firm.fulfilment.{region_id}"
        if region_id not in region_ids:
            bad(path, f"unknown region; known: {region_ids}")
        elif lane_id not in lanes_by_id:
            bad(path, f"unknown lane {lane_id!r}; known: {lane_ids}")
        elif (
            lanes_by_id[lane_id].destination != region_id
            or lanes_by_id[lane_id].carries != "orders"
        ):
            bad(path, f"lane {lane_id!r} does not carry orders to region {region_id!r}")
    for method in scenario.firm.supported_payment_methods:
        if method not in scenario.firm.payment_fee_rate:
            bad("firm.supported_payment_methods", f"no payment_fee_rate for {method!r}")
    if not problems:
        for region in scenario.regions:
            if outbound_lane(scenario, region.id) is None:
                ri = region_ids.index(region.id)
                bad(
                    f"regions[{ri}]",
                    f"no lane carries orders from a home warehouse to {region.id!r} "
                    f"(add one, or name it in firm.fulfilment.{region.id})",
                )
    problems.extend(_check_strategies(scenario, source))
    return problems


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


def strategy_problems(source: str, prefix: str, holder: Any, context: Any) -> list[Problem]:
    """Check the strategy choices an object holds per kind (``holder.pricing`` ...; ``None``
    means "not set") against the registry; paths are ``{prefix}.{kind}.params.x``."""
    from strategies.registry import StrategyError, validate_choice

    problems: list[Problem] = []
    for kind in ("pricing", "selection", "retention", "localization"):
        choice: StrategyChoice | None = getattr(holder, kind)
        if choice is None:
            continue
        try:
            validate_choice(kind, choice.name, choice.params, context)
        except StrategyError as exc:
            for path, message in exc.problems:
                full = f"{prefix}.{kind}" + (f".{path}" if path else "")
                problems.append(Problem(source, full, message))
    return problems


def _check_strategies(scenario: Scenario, source: str) -> list[Problem]:
    return strategy_problems(source, "strategies", scenario.strategies, scenario)
