"""Logistics: dispatch the day's orders, reorder stock, collect finished shipments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.calendar import HOURS_PER_DAY
from sim.firm import Transfer

if TYPE_CHECKING:
    from sim.model import MarketModel


class Logistics:
    """Moves orders and stock through the lanes (SimPy processes on the shared clock)."""

    def __init__(self, model: MarketModel):
        self.model = model

    def dispatch(self, d: int, orders_by_lane: dict[str, list[np.ndarray]]) -> None:
        """Consolidate each lane's orders of day ``d`` into shipments; book their freight."""
        m = self.model
        for lane_id in sorted(orders_by_lane):
            ids = np.concatenate(orders_by_lane[lane_id])
            lane = m.lanes[lane_id]
            units = m.firm.orders.take("units", ids).astype(np.int64)
            freight = lane.ship_orders(d, ids, units)
            r = int(m.firm.orders.take("region", ids[:1])[0])
            m.firm.book("freight_base", r, freight)

    def reorder(self, d: int) -> None:
        """Order stock where a warehouse in use is at or below its reorder point."""
        m = self.model
        firm = m.firm
        serving = {firm.serving_lane(r).origin for r in range(len(m.region_ids))}
        for w, wh in enumerate(firm.warehouses):
            if wh.region is not None and wh.id not in serving:
                continue  # a local or regional warehouse restocks only while in use
            position = firm.on_hand[w] + firm.on_order[w]
            due = np.flatnonzero((firm.reorder_point[w] >= 0) & (position <= firm.reorder_point[w]))
            for p in due:
                q = int(firm.order_quantity[w, p])
                if wh.replenish_from == "supplier":
                    firm.on_order[w, p] += q
                    firm.cash_base -= q * firm.unit_cost_base[p]
                    arrival = d + max(1, wh.supplier_lead_days)
                    firm.supplier_arrivals.setdefault(arrival, []).append(Transfer(w, int(p), q))
                    continue
                self._transfer(d, w, int(p), q)

    def _transfer(self, d: int, w: int, p: int, q: int) -> None:
        """Send up to ``q`` units of product ``p`` to warehouse ``w`` from its source."""
        m = self.model
        firm = m.firm
        wh = firm.warehouses[w]
        src = firm.warehouse_index[wh.replenish_from]
        q = min(q, int(firm.on_hand[src, p]))
        if q <= 0:
            return
        lane_spec = firm.stock_lane(wh.replenish_from, wh.region)
        lane = m.lanes[lane_spec.id]
        firm.on_hand[src, p] -= q
        firm.on_order[w, p] += q
        tid = firm.new_transfer_id()
        firm.lane_transfers[tid] = Transfer(w, p, q)
        lane.submit_shipment(HOURS_PER_DAY * d + lane_spec.departure_hour, np.array([tid]), q)
        r = m.region_ids.index(wh.region)
        firm.book("freight_base", r, lane.freight_cost_base(q, 1))
        duty = m.scenario.regions[r].tax.duty_rate * q * firm.unit_cost_base[p]
        firm.book("duties_vat_base", r, duty)

    def collect_shipments(self, d: int) -> None:
        """Stock transfers that finished today fill their warehouse; order shipments are
        filed under their delivery day (see :class:`sim.deliveries.Deliveries`)."""
        m = self.model
        ids, hours, lost, promised = [], [], [], []
        for lane in m.lanes.values():
            for result in lane.pop_completed():
                if lane.lane.carries == "stock":
                    for tid in result.order_ids:
                        t = m.firm.lane_transfers.pop(int(tid))
                        if not bool(result.lost[0]):
                            m.firm.on_hand[t.warehouse, t.product] += t.units
                        m.firm.on_order[t.warehouse, t.product] -= t.units
                    continue
                ids.append(result.order_ids)
                hours.append(result.delivered_hour)
                lost.append(result.lost)
                promised.append(np.full(len(result.order_ids), lane.lane.promised_days))
        if not ids:
            return
        m.deliveries.schedule(
            d,
            np.concatenate(ids),
            np.concatenate(hours),
            np.concatenate(lost),
            np.concatenate(promised),
        )

    def receive_supplier_stock(self, d: int) -> None:
        """Supplier orders due today arrive at their warehouse."""
        firm = self.model.firm
        for transfer in firm.supplier_arrivals.pop(d, []):
            firm.on_hand[transfer.warehouse, transfer.product] += transfer.units
            firm.on_order[transfer.warehouse, transfer.product] -= transfer.units
