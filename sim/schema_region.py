"""Scenario schema, regions: segments, repeat buying, awareness, tax, FX, service, payments."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.contract import PaymentMethod
from sim.schema_acquisition import Acquisition
from sim.schema_experience import Experience
from sim.schema_sales import Basket, Sales
from sim.schema_types import (
    MAX_DAILY_OCCASION_RATE,
    MAX_SEASONALITY,
    MAX_UTILITY,
    MIN_POSITIVE,
    Hours,
    Identifier,
    NonNegative,
    Positive,
    PositiveHours,
    Probability,
    Strict,
    Utility,
    unique,
)


# --------------------------------------------------------------------------- distributions
class Exponential(Strict):
    """Exponential service time with the given mean."""

    dist: Literal["exponential"]
    mean: PositiveHours


class LogNormal(Strict):
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


class Deterministic(Strict):
    """A fixed duration."""

    dist: Literal["deterministic"]
    value: Hours


Duration = Annotated[Exponential | LogNormal | Deterministic, Field(discriminator="dist")]


# --------------------------------------------------------------------------- regions
class PriceSensitivity(Strict):
    """Log-normal logit price coefficient across consumers (utility per base-currency unit)."""

    mean: Positive
    cv: Annotated[float, Field(ge=0.0, le=3.0)] = 0.0


class BgNbd(Strict):
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


class Segment(Strict):
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
    basket: Basket = Basket()

    @model_validator(mode="after")
    def _payment_shares_sum_to_one(self) -> Segment:
        total = sum(self.payment_preferences.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"@payment_preferences: must sum to 1, got {total:.6g}")
        return self


class Awareness(Strict):
    """Bass diffusion of awareness of our firm (daily rates)."""

    initial_share: Probability = 0.0
    p_base_daily: NonNegative = 0.0005
    p_per_1k_spend_daily: NonNegative = 0.0
    q_daily: NonNegative = 0.05
    dissatisfied_wom_weight: NonNegative = 1.0


class Fx(Strict):
    """Exchange rate (local currency per base unit) following a driftless log random walk."""

    local_per_base: Positive
    daily_volatility: Annotated[float, Field(ge=0.0, le=0.2)] = 0.0


class Tax(Strict):
    """Import duty above the de-minimis threshold and VAT on the consumer price."""

    duty_rate: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    vat_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    de_minimis_local: NonNegative = 0.0
    duty_refunded_on_return: bool = False
    """Whether customs refunds the import duty of a returned (or lost) parcel; VAT is always
    reversed on a refund (it is the consumer's tax, collected and remitted by us)."""


class Regulation(Strict):
    """Compliance burden: consent-flow friction on our listings and a monthly compliance cost."""

    consent_penalty: NonNegative = 0.0
    compliance_cost_monthly_base: NonNegative = 0.0


class ChoiceParams(Strict):
    """Region-wide multinomial-logit terms."""

    outside_utility: Utility = 0.0
    machine_translation_penalty: NonNegative = 0.7
    unsupported_payment_penalty: NonNegative = 1.0
    loyalty_weight: Annotated[float, Field(ge=0.0, le=MAX_UTILITY)] = 0.5
    seller_nest_lambda: Annotated[float, Field(ge=0.05, le=1.0)] = 1.0
    """Nested-logit dissimilarity of one nest per seller in a category (unit-less, 0.05-1):
    1 is the multinomial logit; lower makes a seller's offers closer substitutes for each
    other than for rivals' (``sim.nested_choice``)."""


class Service(Strict):
    """How delivery experience moves satisfaction, loyalty and dropout."""

    initial_satisfaction: Probability = 0.7
    satisfaction_learning_rate: Probability = 0.3
    late_satisfaction: Probability = 0.0
    returned_satisfaction: Probability = 0.3
    loyalty_gain_per_order: Probability = 0.2
    late_loyalty_loss: Probability = 0.3
    dissatisfaction_dropout_uplift: NonNegative = 1.0
    dissatisfied_below: Probability = 0.4


class Payments(Strict):
    """What happens when buyers pay: success at checkout by method, cash-on-delivery refusals.

    A failed payment loses the sale unless the buyer retries (``retry_share``) once with our
    fallback method (the first method we accept, if it differs) at that method's success
    rate. A COD parcel refused at the door goes back to origin: the sale is reversed, the
    return trip costs ``return_to_origin_cost_base`` and the unit is not resold.
    """

    success_rate: dict[PaymentMethod, Probability] = Field(default_factory=dict)
    """Share of payment attempts that succeed, per method (methods not named: 1.0)."""
    retry_share: Probability = 0.0
    """Share of buyers whose payment failed who try once more with our fallback method."""
    cod_refusal_rate: Probability = 0.0
    """Share of delivered cash-on-delivery parcels refused at the door."""
    return_to_origin_cost_base: NonNegative = 0.0
    """Freight of a refused COD parcel back to its origin (base currency per parcel)."""


class Region(Strict):
    """One destination market."""

    id: Identifier
    name: str = ""
    population: Annotated[int, Field(ge=1)]
    language: Annotated[str, Field(min_length=2, max_length=16)]
    segments: Annotated[list[Segment], Field(min_length=1)]
    repeat: BgNbd
    awareness: Awareness = Awareness()
    acquisition: Acquisition = Acquisition()
    fx: Fx
    tax: Tax = Tax()
    regulation: Regulation = Regulation()
    choice: ChoiceParams = ChoiceParams()
    service: Service = Service()
    experience: Experience = Experience()
    payments: Payments = Payments()
    sales: Sales = Sales()
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
        unique((s.id for s in self.segments), "segment id")
        return self


# --------------------------------------------------------------------------- products
