"""Operations staffing: a team that steps with the order volume (``firm.staffing``)."""

from __future__ import annotations

import math

from sim.calendar import DAYS_PER_MONTH
from sim.schema_staffing import Staffing


class StaffingRule:
    """The team size of :class:`sim.schema_staffing.Staffing`, re-set at each review from the
    orders taken since the previous one (the order book's length: no per-day bookkeeping)."""

    def __init__(self, spec: Staffing):
        self.spec = spec
        self.staff = spec.initial_staff
        self._orders_at_review = 0
        self._last_review_day = 0

    def review(self, d: int, orders_so_far: int) -> None:
        """On review days (every ``review_days`` from day ``review_days``): the staff the
        orders since the last review need, scaled to a month, rounded up, within bounds."""
        spec = self.spec
        if d <= 0 or d % spec.review_days:
            return
        days = d - self._last_review_day
        monthly = (orders_so_far - self._orders_at_review) * DAYS_PER_MONTH / days
        needed = math.ceil(monthly / spec.orders_per_staff_monthly - 1e-9)
        self.staff = min(max(needed, spec.min_staff), spec.max_staff)
        self._orders_at_review = orders_so_far
        self._last_review_day = d

    def cost_today(self, d: int, orders_so_far: int) -> float:
        """Day ``d``'s cost of the team (base currency), after the day's review."""
        self.review(d, orders_so_far)
        return self.staff * self.spec.staff_monthly_base / DAYS_PER_MONTH
