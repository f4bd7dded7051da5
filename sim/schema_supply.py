"""Scenario schema, supply side: products, competitors, lanes, stages, warehouses, reorders."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.calendar import HOURS_PER_DAY, MAX_HORIZON_DAYS
from sim.schema_fit import FitPrior
from sim.schema_region import Deterministic, Duration
from sim.schema_types import (
    MAX_DAY,
    Day,
    Identifier,
    NonNegative,
    Positive,
    PositiveHours,
    Probability,
    Strict,
    unique,
)


class Product(Strict):
    """One of our products (sourced at the home warehouse)."""

    id: Identifier
    category: Identifier
    unit_cost_base: Positive
    quality: Probability = 0.5
    eco_score: Probability = 0.0
    tags: list[str] = Field(default_factory=list)
    return_probability: Probability = 0.05
    fit: FitPrior = FitPrior()
    """Prior of the product's hidden appeal per region (``sim.fit``; default: none)."""


# --------------------------------------------------------------------------- competitors
class CompetitorOffer(Strict):
    """A competitor's offer in one region and category (prices in local currency, landed)."""

    region: Identifier
    category: Identifier
    price_local: Positive
    cost_local: NonNegative = 0.0
    quality: Probability = 0.5
    eco_score: Probability = 0.0
    delivery_days: NonNegative = 3.0


class CompetitorBehaviour(Strict):
    """How a competitor reprices."""

    kind: Literal["fixed", "match", "undercut", "best_response"] = "fixed"
    reprice_every_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] = 7
    undercut_share: Annotated[float, Field(ge=0.0, le=0.9)] = 0.05
    floor_markup: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    max_price_multiple: Annotated[float, Field(gt=1.0, le=100.0)] = 5.0


class Competitor(Strict):
    """An incumbent or rival seller."""

    id: Identifier
    behaviour: CompetitorBehaviour = CompetitorBehaviour()
    offers: Annotated[list[CompetitorOffer], Field(min_length=1)]


# --------------------------------------------------------------------------- lanes
class Stage(Strict):
    """A lane stage served by ``servers`` parallel SimPy servers (one shipment each)."""

    name: Identifier
    servers: Annotated[int, Field(ge=1, le=10_000)]
    service_hours: Duration


class Customs(Strict):
    """Random customs inspection after a named stage."""

    stage: Identifier
    inspection_probability: Probability = 0.0
    delay_hours: Duration = Deterministic(dist="deterministic", value=0.0)


class Disruption(Strict):
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


class Lane(Strict):
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
        unique(names, "stage name")
        if self.customs is not None and self.customs.stage not in names:
            raise ValueError(f"@customs.stage: {self.customs.stage!r} is not one of {names}")
        for d in self.disruptions:
            if d.stage not in names:
                raise ValueError(f"@disruptions: stage {d.stage!r} is not one of {names}")
        return self


# --------------------------------------------------------------------------- firm
class Warehouse(Strict):
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
    initial_units_by_product: dict[Identifier, Annotated[int, Field(ge=0, le=10_000_000)]] = Field(
        default_factory=dict
    )
    """Opening stock of the products named (product id -> units), overriding
    ``initial_units`` for them; the others keep ``initial_units``."""
    holding_cost_per_unit_day_base: NonNegative = 0.0
    """Storage and capital cost per unit on hand per day (base currency)."""
    dead_stock_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] | None = None
    """A product with stock here and no sale from here for this many days is dead stock and
    written off at its landed value (None: never written off)."""


class ReorderRule(Strict):
    """(s, Q) policy: order ``order_quantity`` when the inventory position is <= ``reorder_point``.

    ``product`` omitted applies the rule to every product without a specific rule.
    With ``cover_days`` the reorder point follows what sells: each product's point is the
    larger of ``reorder_point`` and ``cover_days`` days of its recent daily sales from this
    warehouse (an exponentially weighted mean over about ``sales_window_days``; units sold,
    so a stockout hides demand as it does from a seller), rounded up.
    """

    warehouse: Identifier
    product: Identifier | None = None
    reorder_point: Annotated[int, Field(ge=0, le=10_000_000)]
    order_quantity: Annotated[int, Field(ge=1, le=10_000_000)]
    cover_days: Annotated[float, Field(gt=0, le=MAX_HORIZON_DAYS)] | None = None
    """Days of recent sales the reorder point covers at least (None: a fixed point)."""
    sales_window_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] = 28
    """Span of the recent-sales mean (days): each day moves it 1/span of the way to the
    day's units sold."""
