"""Scenario schema: retention blocks (the trial pack offered to first-time buyers)."""

from __future__ import annotations

from pydantic import Field

from sim.schema_types import Identifier, NonNegative, Positive, Probability, Strict


class TrialFollowUp(Strict):
    """The reminder a trial-pack buyer gets when the pack runs out: a coupon for the next order.

    ``after_days`` after the trial order every trial buyer who has not ordered again is
    contacted (``cost_per_contact_base`` each, retention cost); the coupon is valid for
    ``duration_days``; with ``response_probability`` a contacted buyer comes back to redeem
    it within the window (one purchase occasion among our offers, as a retention offer's
    response: ``sim/retention_state.py``), and ``cost_per_redemption_base`` (the coupon's
    value) is booked on the order that redeems it.
    """

    after_days: int = Field(default=21, ge=1, le=365)
    duration_days: int = Field(default=30, ge=1, le=365)
    response_probability: Probability = 0.0
    cost_per_contact_base: NonNegative = 0.0
    cost_per_redemption_base: NonNegative = 0.0


class TrialPack(Strict):
    """A trial pack: a first-time buyer's first order is the chosen product at a fixed price.

    Every consumer who is not yet our customer sees our offers at ``price_base`` (what the
    buyer pays, taxes included, in the base currency) in ``regions`` (empty: every region);
    the order is one unit from stock (COGS as usual), taxes are split out of the price as on
    any sale, and ``extra_cost_base`` per pack (packaging, samples) is booked as retention
    cost. Later orders pay list prices. ``followup`` (None: none) is the reminder with a
    coupon that reaches the buyer when the pack runs out.
    """

    price_base: Positive = 9.9
    extra_cost_base: NonNegative = 0.0
    regions: list[Identifier] = Field(default_factory=list)
    followup: TrialFollowUp | None = None
