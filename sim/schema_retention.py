"""Scenario schema: retention blocks (the trial pack offered to first-time buyers)."""

from __future__ import annotations

from pydantic import Field

from sim.schema_types import Identifier, NonNegative, Positive, Strict


class TrialPack(Strict):
    """A trial pack: a first-time buyer's first order is the chosen product at a fixed price.

    Every consumer who is not yet our customer sees our offers at ``price_base`` (what the
    buyer pays, taxes included, in the base currency) in ``regions`` (empty: every region);
    the order is one unit from stock (COGS as usual), taxes are split out of the price as on
    any sale, and ``extra_cost_base`` per pack (packaging, samples) is booked as retention
    cost. Later orders pay list prices.
    """

    price_base: Positive = 9.9
    extra_cost_base: NonNegative = 0.0
    regions: list[Identifier] = Field(default_factory=list)
