"""Scenario schema, selling: basket sizes, bundle offers and the sales channel of a region."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.schema_types import NonNegative, Probability, Strict

#: units in one order: an int16 order-book column, and parcels stay parcels
MAX_UNITS_PER_ORDER = 100
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class Basket(Strict):
    """Units per order of a segment's buyers: 1 + Poisson(``extra_units_mean``), at most
    ``max_units`` (drawn per buyer and occasion, so every strategy variant sees the same
    basket). The default (no extra units) is one unit per order."""

    extra_units_mean: Annotated[float, Field(ge=0.0, le=20.0, allow_inf_nan=False)] = 0.0
    """Mean extra units beyond the first (units per order - 1)."""
    max_units: Annotated[int, Field(ge=1, le=MAX_UNITS_PER_ORDER)] = 10
    """Cap on units per order (the draw is cut at this size)."""


class Marketplace(Strict):
    """Terms of selling through a marketplace instead of our own site."""

    commission_share: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    """Commission on what the buyer pays (incl. VAT and duty), not refunded on returns."""
    fee_per_order_base: NonNegative = 0.0
    """Fixed fee per order (base currency)."""
    initial_awareness_share: Probability = 0.0
    """Marketplace traffic: extra share of consumers aware of our listings on day 0."""
    traffic_p_daily: Annotated[float, Field(ge=0.0, le=0.1)] = 0.0
    """Marketplace traffic: extra daily hazard of an unaware consumer finding our listings
    (added to the Bass innovation rate)."""


class Sales(Strict):
    """How a region buys from us: the channel and the freight of multi-unit parcels."""

    channel: Literal["own_site", "marketplace"] = "own_site"
    marketplace: Marketplace = Marketplace()
    """Used only when ``channel`` is ``marketplace``."""
    extra_unit_freight_share: Share = 1.0
    """Freight of each unit after the first in one parcel, as a share of the lane's
    ``cost_per_unit_base`` (1: every unit pays the full per-unit rate)."""


class Bundles(Strict):
    """A bundle offer (``units`` of the chosen product at a discount) shown to growing
    customers: at least ``min_orders`` and at most ``max_orders`` orders with us so far, the
    last within ``recent_days``. A buyer takes it with probability ``take_rate``; the order
    then has ``units`` units (or its own basket when larger) at ``1 - discount_share`` of
    the price. The discount is given at checkout (revenue is what the buyer pays)."""

    units: Annotated[int, Field(ge=1, le=MAX_UNITS_PER_ORDER)] = 2
    discount_share: Annotated[float, Field(ge=0.0, le=0.9)] = 0.0
    take_rate: Probability = 0.0
    min_orders: Annotated[int, Field(ge=1, le=1000)] = 2
    max_orders: Annotated[int, Field(ge=1, le=1000)] = 4
    recent_days: Annotated[int, Field(ge=1, le=3650)] = 90

    @model_validator(mode="after")
    def _orders(self) -> Bundles:
        if self.min_orders > self.max_orders:
            raise ValueError(
                f"`min_orders <= max_orders` must hold, got {self.min_orders=}, {self.max_orders=}"
            )
        return self
