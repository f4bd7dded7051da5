"""Occasions and fulfilment: consumers choose, our chosen offers are filled, sold and booked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import keyed
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
        self.payment_key = np.uint64(
            model.streams.get("payments").integers(0, 2**63, dtype=np.int64)
        )
        finance = model.scenario.firm.finance
        self.settlement_days = [finance.settlement_days_of(k) for k in PAYMENT_METHODS]

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
            m.offers.respond(d, r, offers, m.firm.payment_supported(r), fulfil, self.occasions[-1])

    def take_orders(self) -> dict[str, list[np.ndarray]]:
        """Today's order ids by lane (handed to dispatch; the list starts afresh)."""
        out, self.orders_by_lane = self.orders_by_lane, {}
        return out

    def fulfiller(self, r: int, d: int) -> Fulfil:
        """The callback region ``r``'s consumers use on day ``d`` to buy our products."""
        firm = self.model.firm

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
            at = np.flatnonzero(filled)
            method, paid = self._pay(r, consumers[at])
            filled[at[~paid]] = False  # a failed payment loses the sale (not a stockout)
            firm.book("checkouts", r, len(at))
            firm.book("failed_payments", r, int((~paid).sum()))
            if paid.any():
                self._book_sales(r, d, w, consumers[at[paid]], products[at[paid]], method[paid])
            return filled

        return fulfil

    def _pay(self, r: int, cons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Payment method and outcome of each buyer in region ``r`` (CRN-keyed per occasion).

        A buyer pays by their own method when we accept it, else by our fallback (the first
        method we accept); an attempt succeeds with the region's success rate for the method;
        a failed buyer retries once with the fallback with probability ``retry_share``.
        """
        m = self.model
        firm, pop = m.firm, m.consumers[r]
        rules = m.scenario.regions[r].payments
        methods = firm.localization[r].payment_methods
        fallback = PAYMENT_METHODS.index(min(methods)) if methods else 0
        method = pop.payment_method[cons].astype(np.int64)
        method = np.where(firm.payment_supported(r)[method], method, fallback)
        if not rules.success_rate:
            return method, np.ones(len(cons), dtype=bool)
        success = np.array([rules.success_rate.get(k, 1.0) for k in PAYMENT_METHODS])
        keys = keyed.occasion_keys(self.payment_key, cons, pop.occasion_count[cons])
        paid = keyed.uniforms(keys, keyed.SALT_PAYMENT) < success[method]
        retry = ~paid & (method != fallback)
        if retry.any():
            u = keyed.uniforms(keys[retry], keyed.SALT_RETRY)
            again = u < rules.retry_share * success[fallback]
            idx = np.flatnonzero(retry)[again]
            method[idx] = fallback
            paid[idx] = True
        return method, paid

    def _book_sales(
        self, r: int, d: int, w: int, cons: np.ndarray, prods: np.ndarray, method: np.ndarray
    ) -> None:
        """Book the sales of one batch: taxes, landed COGS, fees, settlement; record orders.

        Revenue is net of VAT (VAT is the buyer's tax, collected and remitted: a pass-through);
        duty charged to the buyer is revenue and the duty remitted a cost; the payment fee
        applies to the amount charged, the FX fee to the proceeds converted (net of VAT and
        duty, which are paid locally); cash arrives after the payment method's settlement days.
        """
        m = self.model
        firm = m.firm
        pop = m.consumers[r]
        price = m.trials.list_prices(r, cons, firm.price_local[r, prods])
        fx = m.fx_local_per_base[r]
        paid_base = firm.consumer_price_local(r, price) / fx
        duty_local, vat_local = firm.sale_taxes_local(r, price)
        vat_base, duty_base = vat_local / fx, duty_local / fx
        net_base = paid_base - vat_base
        fee = np.nan_to_num(firm.payment_fee[method], nan=0.0)
        revenue = float(net_base.sum())
        firm.book("gmv_base", r, float(paid_base.sum()))
        firm.book("revenue_base", r, revenue)
        firm.book("vat_collected_base", r, float(vat_base.sum()))
        firm.book("duty_base", r, float(duty_base.sum()))
        firm.book("cogs_base", r, firm.inventory.sell(d, w, prods))
        firm.book("payment_fees_base", r, float((fee * paid_base).sum()))
        converted = revenue - float(duty_base.sum())
        firm.book("fx_cost_base", r, converted * m.scenario.firm.fx_conversion_fee)
        firm.book("retention_base", r, float((pop.rebate_share[cons] * net_base).sum()))
        firm.book("units", r, len(cons))
        firm.book("orders", r, len(cons))
        settled = np.bincount(method, weights=net_base, minlength=len(PAYMENT_METHODS))
        for code, amount in enumerate(settled):
            days = self.settlement_days[code]
            firm.treasury.receive_on(d + days, float(amount))
        np.add.at(self.units_today[r], prods, 1)
        np.add.at(self.revenue_today[r], prods, net_base)
        m.offers.redeem(r, cons)
        new, repeat = pop.record_purchases(d, cons, paid_base)
        firm.book("new_customers", r, new)
        firm.book("repeat_orders", r, repeat)
        ids = firm.orders.append(
            region=r,
            consumer=cons,
            product=prods,
            day=d,
            units=1,
            paid_base=paid_base,
            vat_base=vat_base,
            duty_base=duty_base,
            method=method,
            price_local=price,
            warehouse=w,
            seq=pop.frequency[cons],
        )
        self.placed[r] += len(ids)
        lane = firm.serving_lane(r).id
        self.orders_by_lane.setdefault(lane, []).append(ids)
