"""Deliveries: orders arriving (on time or late), returned or lost; satisfaction and refunds.

A refund gives the buyer back what they paid: our revenue (net of VAT) is reversed as a
refund, the VAT as a VAT reversal, and the duty comes back from customs only where the
region's ``tax.duty_refunded_on_return`` says so. A returned unit is not resold. A
cash-on-delivery parcel refused at the door (``payments.cod_refusal_rate``) is reversed the
same way, travels back at ``payments.return_to_origin_cost_base`` (order freight) and is not
resold either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import keyed
from sim.baskets import returned_units
from sim.calendar import HOURS_PER_DAY
from sim.contract import PAYMENT_METHODS
from sim.experience import Completed
from sim.id_sets import positions_by_key
from sim.orders import STATUS_DELIVERED, STATUS_LOST, STATUS_REFUSED, STATUS_RETURNED

if TYPE_CHECKING:
    from sim.model import MarketModel

COD = PAYMENT_METHODS.index("cod")
#: hour of day at which an order counts as placed (delivery times run from noon)
ORDER_HOUR = 12.0
#: the order-book columns a delivery reads (none of them changes after the order is placed)
_TAKEN = ("region", "product", "consumer", "day", "seq", "method", "units")
_TAKEN += ("paid_base", "vat_base", "duty_base")
#: status of a completed order by outcome: kept, returned, lost, refused
_STATUS_BY_OUTCOME = np.array([STATUS_DELIVERED, STATUS_RETURNED, STATUS_LOST, STATUS_REFUSED])


class Deliveries:
    """Orders due per day, and what happens when they arrive.

    Returns are keyed by (consumer, order number) with a counter-based draw: the same order
    of the same consumer is returned or kept in every strategy variant (see ``sim.keyed``).
    """

    def __init__(self, model: MarketModel):
        self.model = model
        self.return_probability = self._return_table()
        self.returns_key = np.uint64(
            model.streams.get("returns").integers(0, 2**63, dtype=np.int64)
        )
        self.completed = np.zeros(len(model.region_ids), dtype=np.int64)  # per region
        payments = [r.payments for r in model.scenario.regions]
        self.refusal = np.array([p.cod_refusal_rate for p in payments])
        self.duty_refunded = np.array(
            [r.tax.duty_refunded_on_return for r in model.scenario.regions], dtype=bool
        )
        self.return_to_origin_cost_base = np.array([p.return_to_origin_cost_base for p in payments])
        self._due: dict[int, list[tuple[np.ndarray, ...]]] = {}

    def _return_table(self) -> np.ndarray:
        """Return probability per region and product (product rate x region tag multipliers)."""
        sc, firm = self.model.scenario, self.model.firm
        base = np.array([p.return_probability for p in sc.products])
        table = np.tile(base, (len(sc.regions), 1))
        for r, region in enumerate(sc.regions):
            for tag, mult in region.return_multiplier_by_tag.items():
                has = np.array([tag in tags for tags in firm.product_tags], dtype=bool)
                table[r, has] *= mult
        return np.minimum(table, 1.0)

    def schedule(
        self,
        d: int,
        ids: np.ndarray,
        hours: np.ndarray,
        lost: np.ndarray,
        promised: np.ndarray,
    ) -> None:
        """File orders that finished travelling on day ``d`` under their delivery day."""
        days = np.maximum(np.floor(hours / HOURS_PER_DAY).astype(np.int64), d)
        for day, sel in positions_by_key(days):
            self._due.setdefault(day, []).append((ids[sel], hours[sel], lost[sel], promised[sel]))

    def process(self, d: int) -> None:
        """Deliveries, losses and returns due today, all regions in one vectorized pass."""
        parts = self._due.pop(d, [])
        if not parts:
            return
        m = self.model
        firm, book = m.firm, m.firm.orders
        oid = np.concatenate([p[0] for p in parts])
        hours = np.concatenate([p[1] for p in parts])
        lost = np.concatenate([p[2] for p in parts])
        promised = np.concatenate([p[3] for p in parts])
        col = book.take_columns(_TAKEN, oid)
        region = col["region"].astype(np.int64)
        products = col["product"].astype(np.int64)
        consumers = col["consumer"].astype(np.int64)
        placed = col["day"].astype(float)
        days = (hours - (HOURS_PER_DAY * placed + ORDER_HOUR)) / HOURS_PER_DAY
        keys = keyed.occasion_keys(self.returns_key, consumers, col["seq"])
        cod = col["method"] == COD
        refused = (
            ~lost & cod & (keyed.uniforms(keys, keyed.SALT_COD_REFUSAL) < self.refusal[region])
        )
        delivered = ~lost & ~refused
        late = delivered & (days > promised)
        late_days = np.where(late, days - promised, 0.0)
        complaint = m.experience.draw_complaints(keys, region, delivered, late_days)
        u = keyed.uniforms(keys, keyed.SALT_RETURN)
        p_return = self.return_probability[region, products]
        units = col["units"].astype(np.int64)
        back = np.where(delivered, returned_units(keys, u < p_return, units, p_return), 0)
        returned = back > 0
        # every order is exactly one of: kept, returned (both delivered), lost, refused, so
        # its status is the code at (returned + 2 lost + 3 refused) of _STATUS_BY_OUTCOME
        outcome = returned + 2 * lost + 3 * refused
        book.set_columns(
            oid,
            {
                "returned_units": back,
                "status": _STATUS_BY_OUTCOME.take(outcome),
                # refused parcels reached the door too; a lost one keeps -1 (never delivered)
                "delivered_day": np.where(lost, -1, d),
                "late_days": late_days,
            },
        )
        nr = len(m.region_ids)
        paid = col["paid_base"].astype(float)
        vat = col["vat_base"].astype(float)
        duty = col["duty_base"].astype(float)
        refunded = returned | lost | refused
        if (units != 1).any():  # a multi-unit order refunds its returned units' share
            share = np.where(returned, back / units, 1.0)
            paid, vat, duty = paid * share, vat * share, duty * share
        duty_back = self.duty_refunded[region]

        def per_region(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
            w = mask.astype(float) if weights is None else np.where(mask, weights, 0.0)
            return np.bincount(region, weights=w, minlength=nr)

        totals = {
            # the buyer gets everything back; VAT is reversed, duty refunded where customs do
            "refunds_base": per_region(refunded, paid - vat),
            "vat_reversed_base": per_region(refunded, vat),
            "duty_base": -per_region(refunded & duty_back, duty),
            "deliveries": per_region(delivered),
            "delivery_days_total": per_region(delivered, days),
            "on_time_deliveries": per_region(delivered & ~late),
            "returns": per_region(returned),
            "returned_units": per_region(returned, back),
            "lost_orders": per_region(lost),
            "cod_refusals": per_region(refused),
            "complaints": per_region(complaint),
            "freight_base": per_region(refused) * self.return_to_origin_cost_base,
        }
        for name, values in totals.items():
            firm.today[name] += values
        completed = np.bincount(region, minlength=nr)
        self.completed += completed
        parts = (consumers, late_days, late, returned | refused, lost, complaint)
        for r in np.flatnonzero(completed):  # satisfaction, loyalty, intent (sim.experience)
            if completed[r] < len(region):  # else every order is region r's: no gather
                sel = region == r
                m.experience.apply(int(r), d, Completed(*(a[sel] for a in parts)))
            else:
                m.experience.apply(int(r), d, Completed(*parts))
