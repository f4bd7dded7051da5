"""Scenario schema, acquisition: paid channels (adstock, saturation), word of mouth, forgetting."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sim.schema_budget import BudgetRule
from sim.schema_types import Identifier, NonNegative, Positive, Probability, Strict

#: most paid channels per region (source codes are one byte per consumer)
MAX_CHANNELS = 32


class Channel(Strict):
    """One paid marketing channel in a region, as a marketing-mix model describes it.

    Spend carries over (adstock): ``A_t = spend_t + adstock_decay_daily x A_(t-1)``; the
    adstock maps to an innovation hazard by a Hill curve that saturates at ``max_p_daily``:
    ``p_t = max_p_daily x A_t^s / (A_t^s + K^s)`` with ``K = half_saturation_daily_base`` and
    ``s = hill_shape``.
    """

    budget_monthly_base: (
        NonNegative | Annotated[list[NonNegative], Field(min_length=12, max_length=12)]
    ) = 0.0
    """Spend per month (base currency), one number or twelve (Jan..Dec); spread evenly over
    the month's days while the region is entered and cash lasts."""
    adstock_decay_daily: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    """Share of yesterday's adstock carried into today (0: no carry-over)."""
    max_p_daily: Probability = 0.0
    """Innovation hazard per day at full saturation (awareness per unaware consumer-day)."""
    half_saturation_daily_base: Positive = 1000.0
    """Adstock (base currency per day) at which the channel gives half of ``max_p_daily``."""
    hill_shape: Annotated[float, Field(ge=0.1, le=10.0)] = 1.0
    """Hill exponent: 1 is concave from the first dollar, above 1 S-shaped."""


class Acquisition(Strict):
    """How consumers learn about us beyond the Bass block: paid channels, who talks, forgetting.

    The defaults change nothing: no channels, word of mouth from every aware consumer (the
    ``awareness`` block's q), no forgetting.
    """

    channels: Annotated[dict[Identifier, Channel], Field(max_length=MAX_CHANNELS)] = Field(
        default_factory=dict
    )
    """Paid channels by name (e.g. search, social, marketplace_ads)."""
    word_of_mouth: Literal["aware", "customers"] = "aware"
    """Who talks: every ``aware`` consumer (classic Bass), or our alive ``customers`` only
    (satisfied ones for us, dissatisfied ones against us with ``dissatisfied_wom_weight``)."""
    forgetting_daily: Probability = 0.0
    """Share of aware consumers who are not (yet) our customers forgetting us each day."""
    budget_rule: BudgetRule = BudgetRule()
    """How the channels' budgets are set over time (``sim.budget_rule``; default: as written)."""
