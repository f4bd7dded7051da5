"""Purchases within cash and credit: the opening stock's cut, and launches blocked when out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.firm import FirmAgent
    from sim.model import MarketModel

#: at most this many proportional cuts (a shipment's fixed cost can make one cut fall short)
MAX_CUTS = 8


def headroom_base(firm: FirmAgent) -> float:
    """What the firm may still commit: cash plus unused credit once the supplier invoices
    already owed are paid (``inf`` without a credit limit)."""
    t = firm.treasury
    return t.position_base + t.credit_limit_base - t.payable_base


def purchase_cash_base(firm: FirmAgent, w: int, products: np.ndarray, units: np.ndarray) -> float:
    """Cash a landed purchase into warehouse ``w`` costs: purchase price, freight and duty."""
    price = float((units * firm.unit_cost_base[products]).sum())
    return price + float(firm.landing_base(w, products, units).sum())


def affordable_units(
    firm: FirmAgent, w: int, products: np.ndarray, units: np.ndarray
) -> np.ndarray:
    """``units`` of an opening-stock purchase into warehouse ``w``, cut in proportion (whole
    units) so that the purchase fits the headroom (:func:`headroom_base`); all of them when
    it does, none when cash and credit have run out.

    Reorders stop while cash and credit have run out; the opening stock is one purchase made
    before any day could stop it, so it must not exhaust them itself.
    """
    room = headroom_base(firm)
    if firm.treasury.stopped or room <= 0:
        return np.zeros_like(units)
    cost = purchase_cash_base(firm, w, products, units)
    for _ in range(MAX_CUTS):
        if cost <= room or not units.any():
            return units
        units = np.floor(units * (room / cost)).astype(units.dtype)
        cost = purchase_cash_base(firm, w, products, units) if units.any() else 0.0
    return units if cost <= room else np.zeros_like(units)


def blocked_launches(model: MarketModel, r: int, newly: np.ndarray) -> np.ndarray:
    """The launches among ``newly`` (boolean per product) that cannot go ahead in region
    ``r`` today: a launch that costs money (``firm.launch.cost_base`` or a stock
    commitment) waits while cash and credit have run out, like reorders, marketing and
    retention offers. Booked as ``launches_blocked``."""
    terms = model.scenario.firm.launch
    costs = terms.cost_base > 0 or terms.stock_units > 0
    if not (costs and model.firm.treasury.stopped and newly.any()):
        return np.zeros_like(newly)
    model.firm.book("launches_blocked", r, int(newly.sum()))
    return newly.copy()
