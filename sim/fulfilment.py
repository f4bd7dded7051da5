"""Occasions and fulfilment: consumers choose, our chosen offers are filled, sold and booked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import keyed
from sim.baskets import BUNDLE_TAKEN, Basket, Baskets, fits_stock, unit_products
from sim.channels import Channels
from sim.consumers import Fulfil, OccasionResult
from sim.contract import PAYMENT_METHODS

if TYPE_CHECKING:
    from sim.model import MarketModel


class Fulfilment:
    """Runs each region's purchase occasions and fills the orders consumers place with us.

    A chosen offer is an order of one or more units (``sim.baskets``: basket size, bundle
    offers) filled from the serving warehouse's stock (in product order within a batch; a
    stockout loses the sale), paid by the consumer's payment method (or our
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
        self.baskets = Baskets(
            model.scenario,
            np.uint64(model.streams.get("baskets").integers(0, 2**63, dtype=np.int64)),
        )
        self.channels = Channels(model.scenario)
        self._extra = np.zeros((nr, 2), dtype=np.int64)  # today's extra units demanded, unfilled
        finance = model.scenario.firm.finance
        self.settlement_days = [finance.settlement_days_of(k) for k in PAYMENT_METHODS]
        # fee rate per payment method (0 where none is set); the firm's rates are fixed
        self._payment_fee = np.nan_to_num(model.firm.payment_fee, nan=0.0)

    def run_occasions(self, d: int) -> None:
        """Every region's occasions of day ``d`` (results in :attr:`occasions`)."""
        m = self.model
        self.units_today[:] = 0
        self.revenue_today[:] = 0.0
        self.occasions = []
        self._extra[:] = 0
        for r, pop in enumerate(m.consumers):
            offers = m.observer.offers(r)
            fulfil = self.fulfiller(r, d)
            res = pop.run_occasions(d, offers, m.firm.payment_supported(r), fulfil)
            m.offers.respond(d, r, offers, m.firm.payment_supported(r), fulfil, res)
            # units beyond the first of each order: demanded, and lost to stockouts
            res.demanded_units += int(self._extra[r, 0])
            res.stockouts += int(self._extra[r, 1])
            self.occasions.append(res)

    def take_orders(self) -> dict[str, list[np.ndarray]]:
        """Today's order ids by lane (handed to dispatch; the list starts afresh)."""
        out, self.orders_by_lane = self.orders_by_lane, {}
        return out

    def fulfiller(self, r: int, d: int) -> Fulfil:
        """The callback region ``r``'s consumers use on day ``d`` to buy our products."""
        firm = self.model.firm

        def fulfil(consumers: np.ndarray, products: np.ndarray) -> np.ndarray:
            w = firm.serving_warehouse(r)
            basket = self.baskets.draw(r, d, self.model.consumers[r], consumers)
            filled = np.zeros(len(consumers), dtype=bool)
            failed = np.zeros(len(consumers), dtype=bool)
            todo = np.arange(len(consumers))
            while len(todo):  # a failed payer's stock goes to the next buyers in line
                stock = self.model.fit.destination.stock_for(r, w)  # less others' launch stock
                fit = fits_stock(products[todo], basket.units[todo], stock)
                at = todo[fit]
                if not len(at):
                    break
                method, paid = self._pay(r, consumers[at])
                failed[at[~paid]] = True  # a failed payment loses the sale (not a stockout)
                firm.book("checkouts", r, len(at))
                firm.book("failed_payments", r, int((~paid).sum()))
                if paid.any():
                    sold = at[paid]
                    filled[sold] = True
                    self._book_sales(
                        r, d, w, consumers[sold], products[sold], method[paid], basket.take(sold)
                    )
                if paid.all():
                    break
                todo = todo[~fit]
            extra = basket.units - 1
            self._extra[r] += (int(extra.sum()), int(extra[~filled & ~failed].sum()))
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
        self,
        r: int,
        d: int,
        w: int,
        cons: np.ndarray,
        prods: np.ndarray,
        method: np.ndarray,
        basket: Basket,
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
        charged = price  # an order's list value: units x unit price x bundle discount
        if not basket.single:
            mult = 1.0 if basket.price_multiplier is None else basket.price_multiplier
            charged = price * basket.units * mult
        paid_base = firm.consumer_price_local(r, charged) / fx
        duty_local, vat_local = firm.sale_taxes_local(r, charged)
        vat_base, duty_base = vat_local / fx, duty_local / fx
        net_base = paid_base - vat_base
        fee = self._payment_fee[method]  # per method, then gathered
        revenue = float(net_base.sum())
        firm.book("gmv_base", r, float(paid_base.sum()))
        firm.book("revenue_base", r, revenue)
        firm.book("vat_collected_base", r, float(vat_base.sum()))
        firm.book("duty_base", r, float(duty_base.sum()))
        firm.book("cogs_base", r, firm.inventory.sell(d, w, unit_products(prods, basket.units)))
        firm.book("payment_fees_base", r, float((fee * paid_base).sum()))
        converted = revenue - float(duty_base.sum())
        firm.book("fx_cost_base", r, converted * m.scenario.firm.fx_conversion_fee)
        firm.book("retention_base", r, float((pop.rebate_share[cons] * net_base).sum()))
        firm.book("units", r, int(basket.units.sum()))
        firm.book("orders", r, len(cons))
        firm.book("marketplace_fees_base", r, self.channels.fees_base(r, paid_base))
        self._book_bundles(r, basket, paid_base, price / fx)
        settled = np.bincount(method, weights=net_base, minlength=len(PAYMENT_METHODS))
        for code, amount in enumerate(settled):
            days = self.settlement_days[code]
            firm.treasury.receive_on(d + days, float(amount))
        np.add.at(self.units_today[r], prods, basket.units)
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
            units=basket.units,
            bundle=basket.bundle,
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

    def _book_bundles(
        self, r: int, basket: Basket, paid_base: np.ndarray, list_base: np.ndarray
    ) -> None:
        """Orders by customers offered a bundle, their value, bundles taken, discount given."""
        offered = basket.bundle > 0
        if not offered.any():
            return
        firm = self.model.firm
        taken = basket.bundle == BUNDLE_TAKEN
        firm.book("bundle_offers", r, int(offered.sum()))
        firm.book("bundle_offer_gmv_base", r, float(paid_base[offered].sum()))
        firm.book("bundle_orders", r, int(taken.sum()))
        if basket.price_multiplier is not None:
            discount = list_base * basket.units * (1.0 - basket.price_multiplier)
            firm.book("bundle_discount_base", r, float(discount[taken].sum()))
