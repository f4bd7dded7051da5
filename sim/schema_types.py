"""Scenario schema building blocks: numeric bounds, annotated field types and the strict base."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

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


class Strict(BaseModel):
    """Base of every schema block: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def unique(values: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the first duplicate in ``values``."""
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)
