"""Marketing budget rule: each region's channel budgets follow a share of its trailing revenue.

With ``acquisition.budget_rule.kind: share_of_revenue`` (:class:`sim.schema_budget.BudgetRule`)
a region's paid channels spend their written budgets for ``ramp_days`` after entry; then,
every ``review_days``, the region's monthly spend is re-set to ``share`` x its revenue over
the last ``review_days`` (scaled to a month, between floor and cap). Every channel's written
budget is multiplied by the same factor (new total / the written budgets' mean monthly
total), so the channel mix and the month-by-month profile stay as written. The spend is
booked by :class:`sim.acquisition.Marketing` on the ledger's ``marketing_base`` line, like
fixed budgets. The ``fixed`` rule leaves every factor at 1 and draws nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.calendar import DAYS_PER_MONTH

if TYPE_CHECKING:
    from sim.model import MarketModel


class BudgetRules:
    """Per region: the factor on the written channel budgets, re-set at each review."""

    def __init__(self, model: MarketModel, budgets: list[np.ndarray]):
        self.model = model
        self.rules = [r.acquisition.budget_rule for r in model.scenario.regions]
        self.active = [
            rule.kind == "share_of_revenue" and len(b) > 0
            for rule, b in zip(self.rules, budgets, strict=True)
        ]
        self.any = any(self.active)
        #: written budgets' mean total per month (all channels), the factor's denominator
        self.planned_monthly_base = np.array([float(b.sum(axis=0).mean()) for b in budgets])
        self.factor = np.ones(len(budgets))
        #: revenue (net of VAT) of the last ``review_days`` days per region (ring buffers)
        self.revenue = [np.zeros(rule.review_days) for rule in self.rules]

    def observe(self, d: int) -> None:
        """Remember day ``d``'s revenue per region (called after the day's sales and refunds)."""
        if not self.any:
            return
        revenue = self.model.firm.today["revenue_base"]
        for r, on in enumerate(self.active):
            if on:
                self.revenue[r][d % len(self.revenue[r])] = revenue[r]

    def review(self, d: int) -> None:
        """On a region's review days (every ``review_days`` from ``ramp_days`` after its entry)
        re-set its factor to ``share`` x trailing monthly revenue / the written budgets."""
        if not self.any:
            return
        entry = self.model.entry_day
        for r, on in enumerate(self.active):
            rule = self.rules[r]
            since = d - int(entry[r]) - rule.ramp_days
            if not on or since < 0 or since % rule.review_days:
                continue
            days = min(rule.review_days, d - int(entry[r]))
            if days <= 0:
                continue  # entered today (ramp_days 0): keep the written budgets for now
            monthly = float(self.revenue[r].sum()) * DAYS_PER_MONTH / days
            target = min(max(rule.share * monthly, rule.floor_monthly_base), rule.cap_monthly_base)
            planned = self.planned_monthly_base[r]
            self.factor[r] = target / planned if planned > 0 else 0.0
