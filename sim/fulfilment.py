"""Occasions and fulfilment: consumers choose, our chosen offers are filled, sold and booked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.consumers import Fulfil, OccasionResult
from sim.contract import PAYMENT_METHODS

if TYPE_CHECKING:
    from sim.model import MarketModel


class Fulfilment:
    """Runs each region's purchase occasions and fills the orders consumers place with us.

    A chosen offer is filled from the serving warehouse's stock (in product order within a
    batch; a stockout loses the sale), paid by the consumer's payment method (or our
    fallback), booked in the ledger and turned into an order waiting for dispatch.
    """

    def __init__(self, model: MarketModel):
        self.model = model
        nr, npd = len(model.region_ids), model.firm.n_products
        self.units_today = np.zeros((nr, npd), dtype=np.int64)
        self.revenue_today = np.zeros((nr, npd))
        self.placed = np.zeros(nr, dtype=np.int64)  # orders ever placed, per region
        self.orders_by_lane: dict[str, list[np.ndarray]] = {}  # today's orders to dispatch
        self.occasions: list[OccasionResult] = []  # today's, per region

    def run_occasions(self, d: int) -> None:
        """Every region's occasions of day ``d`` (results in :attr:`occasions`)."""
        m = self.model
        self.units_today[:] = 0
        self.revenue_today[:] = 0.0
        self.occasions = []
        for r, pop in enumerate(m.consumers):
            offers = m.observer.offers(r)
            fulfil = self.fulfiller(r, d)
            self.occasions.append(pop.run_occasions(d, offers, m.firm.payment_supported(r), fulfil))

    def take_orders(self) -> dict[str, list[np.ndarray]]:
        """Today's order ids by lane (handed to dispatch; the list starts afresh)."""
        out, self.orders_by_lane = self.orders_by_lane, {}
        return out

    def fulfiller(self, r: int, d: int) -> Fulfil:
        """The callback region ``r``'s consumers use on day ``d`` to buy our products."""
        m = self.model
        firm = m.firm
        pop = m.consumers[r]

        def fulfil(consumers: np.ndarray, products: np.ndarray) -> np.ndarray:
            w = firm.serving_warehouse(r)
            order = np.argsort(products, kind="stable")
            sorted_p = products[order]
            starts = np.searchsorted(sorted_p, sorted_p, side="left")
            rank = np.empty(len(products), dtype=np.int64)
            rank[order] = np.arange(len(products)) - starts
            filled = rank < firm.on_hand[w, products]
            if not filled.any():
                return filled
            cons, prods = consumers[filled], products[filled]
            np.subtract.at(firm.on_hand[w], prods, 1)
            price = firm.price_local[r, prods]
            paid_local = firm.consumer_price_local(r, price)
            fx = m.fx_local_per_base[r]
            paid_base = paid_local / fx
            methods = firm.localization[r].payment_methods
            supported = firm.payment_supported(r)
            method = pop.payment_method[cons]
            fallback = PAYMENT_METHODS.index(min(methods)) if methods else 0
            method = np.where(supported[method], method, fallback)
            fee = np.nan_to_num(firm.payment_fee[method], nan=0.0)
            revenue = float(paid_base.sum())
            firm.book("revenue_base", r, revenue)
            firm.book("duties_vat_base", r, float(((paid_local - price) / fx).sum()))
            firm.book("cogs_base", r, float(firm.unit_cost_base[prods].sum()))
            firm.book("payment_fees_base", r, float((fee * paid_base).sum()))
            firm.book("fx_cost_base", r, revenue * m.scenario.firm.fx_conversion_fee)
            firm.book("retention_base", r, float((pop.rebate_share[cons] * paid_base).sum()))
            firm.book("units", r, len(cons))
            firm.book("orders", r, len(cons))
            np.add.at(self.units_today[r], prods, 1)
            np.add.at(self.revenue_today[r], prods, paid_base)
            new, repeat = pop.record_purchases(d, cons, paid_base)
            seq = pop.frequency[cons]
            firm.book("new_customers", r, new)
            firm.book("repeat_orders", r, repeat)
            ids = firm.orders.append(
                region=r,
                consumer=cons,
                product=prods,
                day=d,
                units=1,
                paid_base=paid_base,
                price_local=price,
                warehouse=w,
                seq=seq,
            )
            self.placed[r] += len(ids)
            lane = firm.serving_lane(r).id
            self.orders_by_lane.setdefault(lane, []).append(ids)
            return filled

        return fulfil
