"""Scenario schema, operations staffing: a team whose size steps with the order volume."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from sim.schema_types import NonNegative, Positive, Strict

#: most staff the rule may hire (a bound, far beyond any shipped scenario)
MAX_STAFF = 100_000
#: longest review period (days): ten years, beyond any horizon
MAX_REVIEW_DAYS = 3650


class Staffing(Strict):
    """The seller's operations team (order handling, customer service, listings upkeep):
    its size follows the orders (``firm.staffing``; ``sim.staffing``).

    The firm starts with ``initial_staff``. Every ``review_days`` (from day ``review_days``)
    it re-sets the team to the staff its trailing orders need: orders since the last review,
    scaled to a month, / ``orders_per_staff_monthly``, rounded up, between ``min_staff`` and
    ``max_staff``. Each staff member costs ``staff_monthly_base`` a month, booked daily on
    the ledger's firm-level fixed-cost line (``fixed_base``), also while cash has run out.
    """

    staff_monthly_base: NonNegative
    """Cost of one staff member per month (salary, social charges, seat tools; base currency)."""
    orders_per_staff_monthly: Positive
    """Orders one staff member handles per month."""
    initial_staff: Annotated[int, Field(ge=0, le=MAX_STAFF)] = 1
    """Staff from day 0 until the first review."""
    min_staff: Annotated[int, Field(ge=0, le=MAX_STAFF)] = 1
    """Fewest staff the reviews keep (the founding team)."""
    max_staff: Annotated[int, Field(ge=0, le=MAX_STAFF)] = MAX_STAFF
    """Most staff the reviews hire."""
    review_days: Annotated[int, Field(ge=1, le=MAX_REVIEW_DAYS)] = 30
    """Days between reviews; each looks back at the orders since the previous one."""

    @model_validator(mode="after")
    def _min_below_max(self) -> Staffing:
        if self.min_staff > self.max_staff:
            raise ValueError(
                "`min_staff <= max_staff` must hold, got "
                f"min_staff={self.min_staff}, max_staff={self.max_staff}"
            )
        return self
