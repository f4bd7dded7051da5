"""Trial packs: a first-time buyer's first order at the trial price (choice and booking)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.prices import list_price_local

if TYPE_CHECKING:
    from sim.model import MarketModel


class TrialPacks:
    """Where the scenario's ``firm.trial_pack`` applies, and the price first orders pay.

    Consumers who are not yet our customers weigh our offers at the pack's price (reference
    base units, as every price in the choice); their order is booked at the list price whose
    landed consumer price is the pack's price in local currency at the reference rate (a
    price tag that does not move with FX), so taxes, fees and COGS follow as on any sale.
    """

    def __init__(self, model: MarketModel):
        self.model = model
        self.spec = spec = model.scenario.firm.trial_pack
        self.active = np.zeros(len(model.region_ids), dtype=bool)
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
        return out
