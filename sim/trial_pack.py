"""Trial packs: a first-time buyer's first order at the trial price, and the follow-up coupon."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.contract import RetentionAction
from sim.id_sets import sorted_distinct
from sim.prices import list_price_local

if TYPE_CHECKING:
    from sim.model import MarketModel


class TrialPacks:
    """Where the scenario's ``firm.trial_pack`` applies, and the price first orders pay.

    Consumers who are not yet our customers weigh our offers at the pack's price (reference
    base units, as every price in the choice); their order is booked at the list price whose
    landed consumer price is the pack's price in local currency at the reference rate (a
    price tag that does not move with FX), so taxes, fees and COGS follow as on any sale.

    With ``trial_pack.followup`` each trial buyer who has not ordered again by
    ``after_days`` after the pack is contacted then with a coupon: a retention offer run by
    the model's offer book (``sim.retention_state``: response, redemption, win-back tally
    under the action ``trial_followup``), its contact cost booked as retention cost.
    """

    ACTION = "trial_followup"

    def __init__(self, model: MarketModel):
        self.model = model
        self.spec = spec = model.scenario.firm.trial_pack
        self.active = np.zeros(len(model.region_ids), dtype=bool)
        self._due: dict[int, list[tuple[int, np.ndarray]]] = {}  # contact day -> buyers
        if spec is None:
            return
        for r, region_id in enumerate(model.region_ids):
            self.active[r] = not spec.regions or region_id in spec.regions
            if self.active[r]:
                model.consumers[r].trial_price_ref = spec.price_base

    def list_prices(self, r: int, cons: np.ndarray, price_local: np.ndarray) -> np.ndarray:
        """List price (local) of each sale to ``cons``: the trial pack's for first orders;
        books the packs and their extra cost."""
        if not self.active[r] or self.spec is None:
            return price_local
        m = self.model
        first = ~m.consumers[r].customer[cons]
        if not first.any():
            return price_local
        firm = m.firm
        consumer_local = self.spec.price_base * m.fx_reference[r]
        pack = float(np.asarray(list_price_local(consumer_local, **firm._tax_terms(r))))
        out = np.where(first, pack, price_local)
        packs = int(first.sum())
        firm.book("trial_packs", r, packs)
        firm.book("retention_base", r, self.spec.extra_cost_base * packs)
        follow = self.spec.followup
        if follow is not None and follow.response_probability > 0:
            day = m.day + follow.after_days
            if day < m.horizon_days:
                self._due.setdefault(day, []).append((r, cons[first].astype(np.int64)))
        return out

    def follow_up(self, day: int) -> None:
        """Contact today's trial buyers whose pack ran out and who have not ordered again."""
        due = self._due.pop(day, [])
        follow = self.spec.followup if self.spec is not None else None
        if follow is None or not due or self.model.firm.treasury.stopped:
            return
        m = self.model
        for r in sorted({rr for rr, _ in due}):
            pop = m.consumers[r]
            ids = sorted_distinct(np.concatenate([c for rr, c in due if rr == r]), pop.n)
            ids = ids[pop.frequency[ids] <= 1]  # not yet ordered again
            if not len(ids):
                continue
            action = RetentionAction(
                region_id=m.region_ids[r],
                action=self.ACTION,
                customer_ids=ids,
                cost_per_customer_base=follow.cost_per_contact_base,
                duration_days=follow.duration_days,
                response_probability=follow.response_probability,
                cost_per_redemption_base=follow.cost_per_redemption_base,
            )
            m.firm.book("retention_base", r, follow.cost_per_contact_base * len(ids))
            m.offers.start(r, day, ids, action)
