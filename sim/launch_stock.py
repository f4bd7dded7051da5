"""Launch stock held at the destination: a listing's stock commitment reserved for its region."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import MarketModel


class LaunchStock:
    """Each listing's launch stock held for that (region, product) alone (marketplace
    fulfilment stock, FBA-like), with ``firm.launch.stock_location: destination``.

    The units are bought like any launch stock (``FirmAgent.buy_landed`` into the warehouse
    serving the region at launch, so they are on the books, valued and counted there) and
    reserved for the listing: the region's orders sell them first (a sale of the product in
    the region uses the reservation up), other regions' orders never reach them
    (:meth:`stock_for`). A reservation is written off (``writeoff_base``, ``dead_stock_*``,
    booked to the listing's region) when its listing is delisted or has sold nothing in the
    region for the warehouse's ``dead_stock_days``; it costs the destination's holding rate
    per unit-day. Off (``serving_warehouse``), :meth:`stock_for` hands back the warehouse's
    own stock array and nothing else runs: the model is unchanged.
    """

    def __init__(self, model: MarketModel):
        self.model = model
        terms = model.scenario.firm.launch
        self.active = terms.stock_location == "destination" and terms.stock_units > 0
        shape = (len(model.scenario.regions), len(model.scenario.products))
        self.reserved = np.zeros(shape, dtype=np.int64)  # units held for the listing
        self.warehouse = np.full(shape, -1, dtype=np.int64)  # where they are on the books
        self.last_sale = np.full(shape, -1, dtype=np.int64)  # or the launch day
        self.written_off = np.zeros(shape, dtype=np.int64)  # units, since day 0
        warehouses = model.firm.warehouses  # fixed for the run
        self._dead_days = np.array([w.dead_stock_days or 0 for w in warehouses])
        self._holding_rate = np.array([w.holding_cost_per_unit_day_base for w in warehouses])

    def reserve(self, d: int, r: int, w: int, products: np.ndarray, units: np.ndarray) -> None:
        """Hold ``units`` of ``products`` (just bought into warehouse ``w``) for region ``r``."""
        self.reserved[r, products] += units
        self.warehouse[r, products] = w
        self.last_sale[r, products] = d

    def stock_for(self, r: int, w: int) -> np.ndarray:
        """Units of each product in warehouse ``w`` that region ``r``'s orders may take now:
        its stock less what is still reserved for other regions' listings today."""
        on_hand = self.model.firm.on_hand[w]
        if not self.active or not self.reserved.any():
            return on_hand
        held = self._held_today()
        others = self.warehouse == w
        others[r] = False
        return on_hand - np.where(others, held, 0).sum(axis=0)

    def _held_today(self, here: np.ndarray | None = None) -> np.ndarray:
        """Reservations less the region's sales of the product so far today (``here``:
        :meth:`_served_here` when the caller has it)."""
        sold = self.model.fulfilment.units_today
        here = self._served_here() if here is None else here
        return np.maximum(self.reserved - np.where(here, sold, 0), 0)  # clipped at 0

    def _served_here(self) -> np.ndarray:
        """Per (region, product): whether the reservation sits in the warehouse serving the
        region today (a region served from elsewhere cannot sell it)."""
        firm = self.model.firm
        serving = np.array([firm.serving_warehouse(r) for r in range(firm.n_regions)])
        return self.warehouse == serving[:, None]

    def end_day(self, d: int) -> None:
        """Use reservations up by today's sales, follow write-offs of the warehouses' own
        dead-stock rule, write off dead or delisted reservations and book their holding."""
        if not self.active or not self.reserved.any():
            return
        m = self.model
        firm = m.firm
        sold = m.fulfilment.units_today > 0
        here = self._served_here()
        self.reserved = self._held_today(here)
        self.last_sale[sold & here] = d
        self._follow_warehouses()
        limit = np.where(self.warehouse >= 0, self._dead_days[np.maximum(self.warehouse, 0)], 0)
        stale = (limit > 0) & (d - self.last_sale >= limit)
        for r, p in zip(*np.nonzero((self.reserved > 0) & (stale | ~firm.listed)), strict=True):
            self._write_off(int(r), int(p))
        rate = m.scenario.firm.launch.destination_holding_cost_per_unit_day_base
        for r in np.flatnonzero(self.reserved.any(axis=1)):
            held = self.reserved[r] > 0
            w_rate = self._holding_rate[self.warehouse[r, held]]
            extra = float((self.reserved[r, held] * np.maximum(rate - w_rate, 0.0)).sum())
            firm.book("holding_base", int(r), extra)

    def _follow_warehouses(self) -> None:
        """A warehouse that wrote a product off (its own dead-stock rule) took the
        reservations on it along: keep every reservation within the stock on hand."""
        on_hand = self.model.firm.on_hand
        held = self.reserved > 0
        short = held & (on_hand[np.maximum(self.warehouse, 0), np.arange(held.shape[1])] == 0)
        self.reserved[short] = 0

    def _write_off(self, r: int, p: int) -> None:
        """Write off listing (``r``, ``p``)'s reservation at its landed value, as dead stock."""
        firm = self.model.firm
        inv = firm.inventory
        w, units = int(self.warehouse[r, p]), int(self.reserved[r, p])
        value = units * float(inv.unit_value_base[w, p])
        inv.on_hand[w, p] -= units
        inv.totals.written_off_units += units
        inv.totals.written_off_base += value
        self.reserved[r, p] = 0
        self.written_off[r, p] += units
        firm.book("writeoff_base", r, value)
        firm.book("dead_stock_units", r, units)
        firm.book("dead_stock_base", r, value)
        if not firm.listed[:, p].any():
            firm.book("dead_stock_unlisted_units", r, units)
            firm.book("dead_stock_unlisted_base", r, value)
