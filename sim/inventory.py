"""Inventory at landed cost: units and moving-average value per warehouse and product.

Stock is an asset. A unit's landed cost is its purchase price plus the inbound freight and
import duty paid to bring it to the warehouse; each warehouse keeps the moving average of
that cost per product. Selling a unit books its landed cost as COGS; dead stock and stock
lost in transit are written off at their landed value. Every unit bought is, at any time,
on hand, in transit between warehouses, sold, written off or lost (:meth:`units_balance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Transfer:
    """Stock on its way to a warehouse: products, units and their landed value (base)."""

    warehouse: int
    products: np.ndarray
    units: np.ndarray
    value_base: np.ndarray  # per product: source value + capitalised freight and duty
    arrival_day: int = -1  # supplier orders only; lane transfers arrive via SimPy


@dataclass
class InventoryTotals:
    """Running totals since day 0 (units and base currency)."""

    bought_units: int = 0
    sold_units: int = 0
    written_off_units: int = 0
    lost_units: int = 0
    bought_base: float = 0.0  # purchase price of stock received
    capitalised_base: float = 0.0  # inbound freight and duty added to stock value
    cogs_base: float = 0.0
    written_off_base: float = 0.0  # dead stock and stock lost in transit


class Inventory:
    """On-hand units, on-order units and landed unit values of every warehouse and product."""

    def __init__(self, n_warehouses: int, n_products: int):
        shape = (n_warehouses, n_products)
        self.on_hand = np.zeros(shape, dtype=np.int64)
        self.on_order = np.zeros(shape, dtype=np.int64)
        self.unit_value_base = np.zeros(shape)  # moving-average landed cost per unit
        self.in_transit_units = 0
        self.in_transit_base = 0.0  # value of stock travelling between warehouses
        self.last_sale_day = np.full(shape, -1, dtype=np.int64)  # or the day stock came in
        self.totals = InventoryTotals()
        #: dead-stock write-offs not yet attributed: (warehouse, products, units, value per
        #: product); drained daily by ``sim.fit`` (dead stock by cause)
        self.dead_log: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        #: units sold today per warehouse and product, kept only for reorder points that
        #: follow sales (:meth:`track_sales`; sim.demand_cover)
        self.sold_today: np.ndarray | None = None

    def track_sales(self) -> None:
        """Count each day's units sold per warehouse and product in :attr:`sold_today`."""
        self.sold_today = np.zeros(self.on_hand.shape, dtype=np.int64)

    # ------------------------------------------------------------------ value
    def value_base(self) -> float:
        """Landed value of everything we own: on hand plus in transit."""
        return float((self.on_hand * self.unit_value_base).sum()) + self.in_transit_base

    def units_balance(self) -> int:
        """Bought - (on hand + in transit + sold + written off + lost): always 0."""
        t = self.totals
        held = int(self.on_hand.sum()) + self.in_transit_units
        return t.bought_units - held - t.sold_units - t.written_off_units - t.lost_units

    # ------------------------------------------------------------------ movements
    def receive(
        self, day: int, w: int, products: np.ndarray, units: np.ndarray, value_base: np.ndarray
    ) -> None:
        """Put ``units`` of ``products`` worth ``value_base`` (per product) on hand at ``w``."""
        products = np.asarray(products, dtype=np.int64)
        units = np.asarray(units, dtype=np.int64)
        value_base = np.asarray(value_base, dtype=float)
        old = self.on_hand[w, products]
        new = old + units
        held_value = old * self.unit_value_base[w, products] + value_base
        self.unit_value_base[w, products] = np.where(new > 0, held_value / np.maximum(new, 1), 0.0)
        restart = (old == 0) & (units > 0)
        self.last_sale_day[w, products[restart]] = day
        self.on_hand[w, products] = new

    def buy(
        self,
        day: int,
        w: int,
        products: np.ndarray,
        units: np.ndarray,
        unit_cost_base: np.ndarray,
        landing_base: np.ndarray,
    ) -> None:
        """Stock bought from the supplier arrives at ``w``: price plus landing costs
        (freight and duty per product, already paid or payable) become its value."""
        units = np.asarray(units, dtype=np.int64)
        bought = units * np.asarray(unit_cost_base, dtype=float)
        landing = np.asarray(landing_base, dtype=float)
        t = self.totals
        t.bought_units += int(units.sum())
        t.bought_base += float(bought.sum())
        t.capitalised_base += float(landing.sum())
        self.receive(day, w, products, units, bought + landing)

    def sell(self, day: int, w: int, products: np.ndarray) -> float:
        """One unit of each of ``products`` (repeats allowed) leaves ``w`` sold; its COGS."""
        cogs = float(self.unit_value_base[w, products].sum())
        np.subtract.at(self.on_hand[w], products, 1)
        if self.sold_today is not None:
            np.add.at(self.sold_today[w], products, 1)
        self.last_sale_day[w, products] = day
        self.totals.sold_units += len(products)
        self.totals.cogs_base += cogs
        return cogs

    def send(self, w: int, products: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Take ``units`` of ``products`` out of ``w`` into transit; their value per product."""
        value = units * self.unit_value_base[w, products]
        self.on_hand[w, products] -= units
        self.in_transit_units += int(units.sum())
        self.in_transit_base += float(value.sum())
        return value

    def capitalise(self, amount_base: float) -> None:
        """Inbound freight and duty paid on stock in transit add to its value."""
        self.in_transit_base += amount_base
        self.totals.capitalised_base += amount_base

    def arrive(self, day: int, transfer: Transfer, lost: bool) -> float:
        """A transfer's shipment finished; lost stock is written off. Returns the write-off."""
        units = int(transfer.units.sum())
        value = float(transfer.value_base.sum())
        self.in_transit_units -= units
        self.in_transit_base -= value
        self.on_order[transfer.warehouse, transfer.products] -= transfer.units
        if lost:
            self.totals.lost_units += units
            self.totals.written_off_base += value
            return value
        self.receive(
            day, transfer.warehouse, transfer.products, transfer.units, transfer.value_base
        )
        return 0.0

    def write_off_dead(self, day: int, w: int, dead_after_days: int) -> float:
        """Write off the stock of ``w`` not sold for ``dead_after_days``; its landed value."""
        dead = (self.on_hand[w] > 0) & (day - self.last_sale_day[w] >= dead_after_days)
        if not dead.any():
            return 0.0
        units = self.on_hand[w, dead]
        values = units * self.unit_value_base[w, dead]
        value = float(values.sum())
        self.dead_log.append((w, np.flatnonzero(dead), units, values))
        self.on_hand[w, dead] = 0
        self.totals.written_off_units += int(units.sum())
        self.totals.written_off_base += value
        return value


def pack_shipments(
    products: np.ndarray, units: np.ndarray, capacity_units: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split one departure's products into shipments of at most ``capacity_units`` units
    (a product may be split across shipments); returns (products, units) per shipment."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    cur_p: list[int] = []
    cur_u: list[int] = []
    room = capacity_units
    for p, u in zip(products.tolist(), units.tolist(), strict=True):
        while u > 0:
            take = min(u, room)
            cur_p.append(p)
            cur_u.append(take)
            u -= take
            room -= take
            if room == 0:
                out.append((np.array(cur_p, dtype=np.int64), np.array(cur_u, dtype=np.int64)))
                cur_p, cur_u, room = [], [], capacity_units
    if cur_p:
        out.append((np.array(cur_p, dtype=np.int64), np.array(cur_u, dtype=np.int64)))
    return out
