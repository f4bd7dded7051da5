"""Scenario schema, marketing budget rule: fixed channel budgets or a share of trailing revenue."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.schema_types import MAX_MAGNITUDE, NonNegative, Strict

#: longest review period and ramp (days): ten years, beyond any horizon
MAX_RULE_DAYS = 3650


class BudgetRule(Strict):
    """How a region's paid-channel budgets are set over time (``acquisition.budget_rule``).

    ``fixed`` (the default) spends the channels' ``budget_monthly_base`` as written. With
    ``share_of_revenue`` the channels spend their written budgets for ``ramp_days`` after the
    region's entry (the launch budget); from then on, every ``review_days``, the region's
    total monthly spend is re-set to ``share`` x its revenue (net of VAT) over the last
    ``review_days``, scaled to a month and held between ``floor_monthly_base`` and
    ``cap_monthly_base``. The channel mix and the month-by-month profile of the written
    budgets are kept: every channel's budget is multiplied by the same factor, the new total
    / the written budgets' mean monthly total.
    """

    kind: Literal["fixed", "share_of_revenue"] = "fixed"
    """``fixed``: the written budgets; ``share_of_revenue``: a share of trailing revenue."""
    share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15
    """Marketing spend / trailing revenue (net of VAT) after the ramp."""
    floor_monthly_base: NonNegative = 0.0
    """Least total spend per month of the region's channels after the ramp (base currency)."""
    cap_monthly_base: NonNegative = MAX_MAGNITUDE
    """Most total spend per month of the region's channels after the ramp (base currency)."""
    review_days: Annotated[int, Field(ge=1, le=MAX_RULE_DAYS)] = 30
    """Days between budget reviews; each review looks back this many days of revenue."""
    ramp_days: Annotated[int, Field(ge=0, le=MAX_RULE_DAYS)] = 90
    """Days after the region's entry with the written (launch) budgets, before the first review."""

    @model_validator(mode="after")
    def _floor_below_cap(self) -> BudgetRule:
        if self.floor_monthly_base > self.cap_monthly_base:
            raise ValueError(
                "`floor_monthly_base <= cap_monthly_base` must hold, got "
                f"floor_monthly_base={self.floor_monthly_base}, "
                f"cap_monthly_base={self.cap_monthly_base}"
            )
        return self
