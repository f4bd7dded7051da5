"""Strategy decisions: ask each strategy in turn, validate its decision, apply and book it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.contract import (
    PAYMENT_METHODS,
    LocalizationChoice,
    LocalizationDecision,
    PricingDecision,
    RetentionDecision,
    SelectionDecision,
)
from sim.credit import blocked_launches
from sim.errors import StrategyError
from sim.id_sets import sorted_distinct

if TYPE_CHECKING:
    from sim.model import MarketModel


class Decisions:
    """Runs the strategy phase of a decision day and applies what the strategies decide.

    Strategies decide in the order localization, selection, pricing, retention, each from a
    fresh view (so a later one sees what the earlier ones changed), with its own random
    stream; invalid decisions raise :class:`~sim.errors.StrategyError` naming the strategy.
    """

    def __init__(self, model: MarketModel):
        self.model = model

    def is_decision_day(self, d: int) -> bool:
        """Every ``decision_interval_days`` days, and on a day a region is entered."""
        m = self.model
        interval = m.scenario.strategies.decision_interval_days
        return d % interval == 0 or bool((m.entry_day == d).any())

    def run(self) -> None:
        """Let each strategy decide from a fresh view and apply its decision."""
        m = self.model
        s, rng, observe = m.strategies, m.rng_strategy, m.observer.market_view
        m.observer.open_decisions()  # the four views share what no decision changes
        try:
            self.apply_localization(s["localization"].decide(observe(), rng["localization"]))
            self.apply_selection(s["selection"].decide(observe(), rng["selection"]))
            self.apply_pricing(s["pricing"].decide(observe(), rng["pricing"]))
            self.apply_retention(s["retention"].decide(observe(), rng["retention"]))
        finally:
            m.observer.release_customer_views()  # until the next decision day

    def _who(self, kind: str) -> str:
        return f"{kind} strategy {self.model.strategies[kind].name!r}"

    def _region(self, region_id: str, who: str) -> int:
        region_ids = self.model.region_ids
        if region_id not in region_ids:
            raise StrategyError(f"{who}: unknown region {region_id!r}; known: {region_ids}")
        return region_ids.index(region_id)

    def _per_product(self, values: object, who: str, region_id: str, dtype: type) -> np.ndarray:
        arr = np.asarray(values, dtype=dtype)
        n = self.model.firm.n_products
        if arr.shape != (n,):
            raise StrategyError(
                f"{who}: expected {n} values for region {region_id!r}, got shape {arr.shape}"
            )
        return arr

    def _check_localization(self, r: int, region_id: str, choice: object, who: str) -> None:
        if not isinstance(choice, LocalizationChoice):
            raise StrategyError(f"{who}: expected a LocalizationChoice for {region_id!r}")
        unknown = set(choice.payment_methods) - set(PAYMENT_METHODS)
        if unknown:
            raise StrategyError(f"{who}: unknown payment methods {sorted(unknown)}")
        no_fee = set(choice.payment_methods) - set(self.model.scenario.firm.payment_fee_rate)
        if no_fee:
            raise StrategyError(
                f"{who}: payment methods {sorted(no_fee)} have no fee rate in firm.payment_fee_rate"
            )
        if choice.local_warehouse and self.model.firm.local[r] is None:
            raise StrategyError(f"{who}: region {region_id!r} has no local warehouse lane")

    def apply_localization(self, decision: LocalizationDecision) -> None:
        """Validate and apply localization choices; book one-off setup costs."""
        who = self._who("localization")
        m = self.model
        firm, lc = m.firm, m.scenario.firm.localization_costs
        for region_id, choice in decision.choices.items():
            r = self._region(region_id, who)
            self._check_localization(r, region_id, choice, who)
            if m.day < m.entry_day[r]:
                continue
            old = firm.localization[r]
            setup = 0.0
            if choice.human_translation and not old.human_translation:
                setup += lc.human_translation_setup_base
            if choice.local_service and not old.local_service:
                setup += lc.local_service_setup_base
            if choice.local_warehouse and not old.local_warehouse:
                setup += lc.local_warehouse_setup_base
            setup += lc.payment_method_setup_base * len(
                set(choice.payment_methods) - set(old.payment_methods) - firm.default_methods
            )
            firm.book("localization_base", r, setup)
            firm.localization[r] = LocalizationChoice(
                human_translation=choice.human_translation,
                payment_methods=frozenset(choice.payment_methods),
                local_warehouse=choice.local_warehouse,
                local_service=choice.local_service,
            )

    def apply_selection(self, decision: SelectionDecision) -> None:
        """Validate and apply listings (nothing is listed in a region not yet entered)."""
        who = self._who("selection")
        m = self.model
        firm = m.firm
        for region_id, listed in decision.listed.items():
            r = self._region(region_id, who)
            mask = self._per_product(listed, who, region_id, bool)
            if m.day < m.entry_day[r]:
                mask = np.zeros_like(mask)
            newly = mask & ~firm.listed[r]
            blocked = blocked_launches(m, r, newly)  # cash and credit out (sim.credit)
            mask, newly = mask & ~blocked, newly & ~blocked
            m.fit.on_listing(r, newly, firm.listed[r] & ~mask)  # launch costs and stock
            firm.listed_since[r, newly] = m.day
            firm.listed_since[r, ~mask] = -1
            firm.listed[r] = mask

    def apply_pricing(self, decision: PricingDecision) -> None:
        """Validate and apply prices (local currency, before duty and VAT)."""
        who = self._who("pricing")
        for region_id, prices in decision.prices_local.items():
            r = self._region(region_id, who)
            arr = self._per_product(prices, who, region_id, float)
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise StrategyError(f"{who}: prices for {region_id!r} must be finite and > 0")
            self.model.firm.price_local[r] = arr

    def apply_retention(self, decision: RetentionDecision) -> None:
        """Validate and start retention actions; book their cost (none start while cash and
        credit have run out)."""
        who = self._who("retention")
        m = self.model
        for action in decision.actions:
            r = self._region(action.region_id, who)
            pop = m.consumers[r]
            ids = np.asarray(action.customer_ids, dtype=np.int64)
            if len(ids) and (ids.min() < 0 or ids.max() >= pop.n or not pop.customer[ids].all()):
                raise StrategyError(f"{who}: action {action.action!r} targets non-customers")
            if action.cost_per_customer_base < 0 or action.duration_days < 1:
                raise StrategyError(f"{who}: action {action.action!r} needs cost >= 0, days >= 1")
            if not (action.dropout_multiplier >= 0 and action.rate_multiplier > 0):
                raise StrategyError(f"{who}: action {action.action!r} has invalid multipliers")
            if not (0 <= action.response_probability <= 1 and action.cost_per_redemption_base >= 0):
                raise StrategyError(f"{who}: action {action.action!r} needs response in [0, 1]")
            if not len(ids) or m.firm.treasury.stopped:
                continue
            dropout = action.dropout_multiplier
            if action.hazard_neutral:
                dropout = min(dropout, 1.0 / action.rate_multiplier)
            distinct = sorted_distinct(ids, pop.n)  # once: the calls below take it as it is
            pop.apply_retention(
                m.day,
                distinct,
                dropout,
                action.rate_multiplier,
                action.utility_bonus,
                action.rebate_share,
                action.duration_days,
            )
            m.firm.book("retention_base", r, action.cost_per_customer_base * len(ids))
            if action.membership:  # a membership is not an offer (sim.retention_state)
                m.firm.book("loyalty_members", r, len(distinct))
            else:
                m.offers.start(r, m.day, distinct, action)
