"""Logistics: dispatch the day's orders, reorder and move stock, collect finished shipments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.calendar import HOURS_PER_DAY
from sim.inventory import Transfer, pack_shipments
from sim.parcels import ParcelKeys

if TYPE_CHECKING:
    from sim.model import MarketModel


class Logistics:
    """Moves orders and stock through the lanes (SimPy processes on the shared clock)."""

    def __init__(self, model: MarketModel):
        self.model = model
        self.parcel_keys = ParcelKeys(model.streams, len(model.region_ids))  # sim.parcels

    def dispatch(self, d: int, orders_by_lane: dict[str, list[np.ndarray]]) -> None:
        """Consolidate each lane's orders of day ``d`` into shipments; book their freight."""
        m = self.model
        for lane_id in sorted(orders_by_lane):
            ids = np.concatenate(orders_by_lane[lane_id])
            lane = m.lanes[lane_id]
            col = m.firm.orders.take_columns(("units", "region", "consumer", "seq"), ids)
            units = col["units"].astype(np.int64)
            keys = self.parcel_keys.keys(col["region"], col["consumer"], col["seq"])
            per_unit, per_shipment = lane.ship_orders(d, ids, units, keys)
            freight = per_unit + per_shipment
            r = int(col["region"][0])
            # the per-shipment part, a cost per departure (not per unit): our view's books
            m.observer.history.shipment_fees_today[r] += per_shipment
            # a multi-unit order is one parcel (sim.baskets)
            freight -= m.fulfilment.baskets.parcel_freight_saving(
                r, units, lane.lane.cost_per_unit_base
            )
            m.firm.book("freight_base", r, freight)

    def reorder(self, d: int) -> None:
        """Order stock where a warehouse in use is at or below its reorder point.

        Each warehouse places at most one order a day: one supplier purchase order, or one
        departure on its stock lane carrying every product due (split only by the lane's
        capacity). Nothing is reordered while cash and credit have run out. Reorder points
        that follow sales (``cover_days``) first take in today's sales.
        """
        m = self.model
        firm = m.firm
        cover = firm.demand_cover
        sold = firm.inventory.sold_today
        if cover is not None and sold is not None:
            cover.observe(sold)
            sold[:] = 0
        if firm.treasury.stopped:
            return
        wanted = firm.wanted_warehouses()
        for w, wh in enumerate(firm.warehouses):
            if wh.region is not None and wh.id not in wanted:
                continue  # a local or regional warehouse restocks only while in use
            position = firm.on_hand[w] + firm.on_order[w]
            point = firm.reorder_point[w]
            if cover is not None:
                point = cover.reorder_points(w, point)
            due = np.flatnonzero((point >= 0) & (position <= point))
            if m.scenario.firm.launch.restock_listed_only:  # nobody sells the others
                due = due[firm.listed[:, due].any(axis=0)]
            if len(due) == 0:
                continue
            units = firm.order_quantity[w, due].astype(np.int64)
            if wh.replenish_from == "supplier":
                firm.on_order[w, due] += units
                arrival = d + max(1, wh.supplier_lead_days)
                transfer = Transfer(w, due, units, np.zeros(len(due)), arrival)
                firm.supplier_arrivals.setdefault(arrival, []).append(transfer)
                continue
            self._transfer(d, w, due, units)

    def _transfer(self, d: int, w: int, products: np.ndarray, wanted: np.ndarray) -> None:
        """One departure on warehouse ``w``'s stock lane with what its source can spare.

        Freight (per unit and per shipment) and the import duty of ``w``'s region are paid now
        and added to the stock's landed value.
        """
        m = self.model
        firm = m.firm
        wh = firm.warehouses[w]
        src = firm.warehouse_index[wh.replenish_from]
        units = np.minimum(wanted, firm.on_hand[src, products])
        keep = units > 0
        products, units = products[keep], units[keep]
        if len(products) == 0:
            return
        lane_spec = firm.stock_lane(wh.replenish_from, wh.region)
        lane = m.lanes[lane_spec.id]
        value = firm.inventory.send(src, products, units)
        firm.on_order[w, products] += units
        shipments = pack_shipments(products, units, lane_spec.max_units_per_shipment)
        total = int(units.sum())
        freight = lane.freight_cost_base(total, len(shipments))
        duty = firm.import_duty_base(w, products, units)
        landed = value + duty + freight * units / total  # per product
        firm.inventory.capitalise(float(duty.sum()) + freight)
        firm.book("capitalised_base", firm.warehouse_region[w], float(duty.sum()) + freight)
        share = dict(zip(products.tolist(), (landed / units).tolist(), strict=True))
        hour = HOURS_PER_DAY * d + lane_spec.departure_hour
        for prods, qty in shipments:
            tid = firm.new_transfer_id()
            unit_value = np.array([share[p] for p in prods.tolist()])
            firm.lane_transfers[tid] = Transfer(w, prods, qty, qty * unit_value)
            lane.submit_shipment(hour, np.array([tid]), int(qty.sum()))

    def collect_shipments(self, d: int) -> None:
        """Stock transfers that finished today fill their warehouse (lost stock is written
        off); order shipments are filed under their delivery day (see
        :class:`sim.deliveries.Deliveries`)."""
        m = self.model
        firm = m.firm
        ids, hours, lost, promised = [], [], [], []
        for lane in m.lanes.values():
            for result in lane.pop_completed():
                if lane.lane.carries == "stock":
                    for tid in result.order_ids:
                        t = firm.lane_transfers.pop(int(tid))
                        self._arrive(d, t, bool(result.lost[0]))
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

    def _arrive(self, d: int, transfer: Transfer, lost: bool) -> None:
        firm = self.model.firm
        written_off = firm.inventory.arrive(d, transfer, lost)
        firm.book("writeoff_base", firm.warehouse_region[transfer.warehouse], written_off)
        if not lost:
            firm.ready[transfer.warehouse] = True

    def receive_supplier_stock(self, d: int) -> None:
        """Supplier orders due today arrive: bought at unit cost (paid after the supplier's
        terms), import duty paid now where the warehouse is abroad."""
        firm = self.model.firm
        terms = self.model.scenario.firm.finance.supplier_payment_days
        for t in firm.supplier_arrivals.pop(d, []):
            duty = firm.import_duty_base(t.warehouse, t.products, t.units)
            cost = firm.unit_cost_base[t.products]
            firm.on_order[t.warehouse, t.products] -= t.units
            firm.inventory.buy(d, t.warehouse, t.products, t.units, cost, duty)
            firm.ready[t.warehouse] = True
            price = float((t.units * cost).sum())
            firm.book("purchases_base", firm.warehouse_region[t.warehouse], price)
            firm.book("capitalised_base", firm.warehouse_region[t.warehouse], float(duty.sum()))
            firm.treasury.pay_on(d + terms, price)

    def upkeep(self, d: int) -> None:
        """Holding cost of the stock on hand and the write-off of dead stock, per warehouse."""
        firm = self.model.firm
        for w, wh in enumerate(firm.warehouses):
            r = firm.warehouse_region[w]
            if wh.dead_stock_days is not None:
                firm.book(
                    "writeoff_base", r, firm.inventory.write_off_dead(d, w, wh.dead_stock_days)
                )
            if wh.holding_cost_per_unit_day_base:
                units = int(firm.on_hand[w].sum())
                firm.book("holding_base", r, units * wh.holding_cost_per_unit_day_base)
