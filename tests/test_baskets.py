"""Baskets, bundles and the sales channel: units per order, stock, per-unit returns, freight,
bundle value, marketplace fees and traffic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from helpers import make_scenario
from scipy.stats import poisson

from sim.baskets import BUNDLE_TAKEN, fits_stock
from sim.kpis import ALL_REGIONS
from sim.orders import STATUS_RETURNED
from tests.helpers import new_model


def _world(
    extra: float = 0.0,
    max_units: int = 10,
    *,
    returns: float = 0.0,
    bundles: dict | None = None,
    sales: dict | None = None,
    stock: int = 100_000,
):
    def modify(d: dict) -> None:
        region = d["regions"][0]
        region["population"] = 20_000
        region["segments"][0]["basket"] = {"extra_units_mean": extra, "max_units": max_units}
        if sales is not None:
            region["sales"] = sales
        d["firm"]["warehouses"][0]["initial_units"] = stock
        for p in d["products"]:
            p["return_probability"] = returns
        d["lanes"][0]["loss_probability"] = 0.0
        if bundles is not None:
            d["firm"]["bundles"] = bundles

    return make_scenario(modify)


def _run(sc, seed: int = 3, days: int = 60):
    model = new_model(sc, seed=seed, days=days)
    frame = model.run()
    return model, frame[frame["region"] == ALL_REGIONS]


def test_units_per_order_follow_the_capped_poisson_and_take_stock() -> None:
    """1 + Poisson(1.5) cut at 4: mean units per order within 4 SE of the exact mean; units
    sold = units in the order book = units out of stock; orders are never split."""
    model, a = _run(_world(1.5, 4))
    book = model.firm.orders
    units = book.column("units").astype(np.int64)
    k = np.arange(0, 3)
    pk = poisson.pmf(k, 1.5)
    exact = float((pk * (1 + k)).sum() + (1 - pk.sum()) * 4)
    sd = math.sqrt(float((pk * (1 + k) ** 2).sum() + (1 - pk.sum()) * 16) - exact**2)
    assert len(units) > 2_000
    assert abs(units.mean() - exact) <= 4 * sd / math.sqrt(len(units)), units.mean()
    assert units.min() >= 1 and units.max() == 4
    assert a["units"].sum() == units.sum() > a["orders"].sum() == len(units)
    inv = model.firm.inventory
    assert inv.totals.sold_units == units.sum()
    assert inv.units_balance() == 0


def test_stock_fills_whole_orders_in_turn() -> None:
    """Orders of 2, 3 and 2 units of one product with 4 on hand: the first fits, the second
    does not, the third still fits the 2 units the first left (first come, first served, an
    order too large is skipped); the 5-unit order of product 1 does not fit its 4."""
    filled = fits_stock(np.array([0, 0, 1, 0]), np.array([2, 3, 5, 2]), np.array([4, 4]))
    assert filled.tolist() == [True, False, False, True]
    filled = fits_stock(np.array([0, 0, 0, 0]), np.array([3, 2, 1, 1]), np.array([4]))
    assert filled.tolist() == [True, False, True, False]
    filled = fits_stock(np.array([0, 1, 0]), np.array([1, 1, 1]), np.array([1, 5]))
    assert filled.tolist() == [True, True, False]  # one unit each: the old rank rule


def test_each_unit_is_returned_with_the_products_probability() -> None:
    """Returned units / delivered units within 4 binomial SE of 0.3; an order with a returned
    unit is refunded its returned units' share (refund + VAT reversed = that share of what
    was paid, duty not refunded here)."""
    model, a = _run(_world(2.0, 6, returns=0.3), days=60)
    book = model.firm.orders
    status = book.column("status")
    units = book.column("units").astype(np.int64)
    back = book.column("returned_units").astype(np.int64)
    done = (status == STATUS_RETURNED) | (status == 1)
    n = int(units[done].sum())
    share = back[done].sum() / n
    assert n > 3_000
    assert abs(share - 0.3) <= 4 * math.sqrt(0.3 * 0.7 / n), share
    assert ((back > 0) == (status == STATUS_RETURNED)).all()
    assert (back <= units).all()
    partial = (back > 0) & (back < units)
    assert partial.any()
    paid = book.column("paid_base").astype(float)
    vat = book.column("vat_base").astype(float)
    ret = status == STATUS_RETURNED
    expected = float(((paid - vat) * back / units)[ret].sum())
    assert math.isclose(a["refunds_base"].sum(), expected, rel_tol=1e-5)
    assert a["returned_units"].sum() == back.sum()
    assert a["returns"].sum() == ret.sum()


def test_a_parcel_pays_less_freight_for_extra_units() -> None:
    """Order freight = per-shipment costs + per-unit rate x (orders + share x extra units)."""
    sales = {"extra_unit_freight_share": 0.4}
    for share, sc in ((1.0, _world(1.0, 5)), (0.4, _world(1.0, 5, sales=sales))):
        model, a = _run(sc, days=30)
        lane = model.lanes["cn-xa-air"]
        units = model.firm.orders.column("units").astype(np.int64)
        expected = lane.lane.cost_per_unit_base * (len(units) + share * (units - 1).sum())
        expected += lane.lane.cost_per_shipment_base * lane.shipments_started
        assert math.isclose(a["freight_base"].sum(), expected, rel_tol=1e-9), share


def test_bundles_raise_the_order_value_of_growing_customers() -> None:
    """Growing customers (2-4 orders, last within 90 days) offered 2 units at 15% off take it
    always: their orders are bundles of >= 2 units at 0.85 x list, order value ~1.7x the
    same customers' without the offer (paired seeds, no duty below de minimis)."""
    offer = {"units": 2, "discount_share": 0.15, "min_orders": 2, "max_orders": 4}
    m_on, a_on = _run(_world(bundles={**offer, "take_rate": 1.0}), days=90)
    m_off, a_off = _run(_world(bundles={**offer, "take_rate": 0.0}), days=90)
    book = m_on.firm.orders
    flag, units = book.column("bundle"), book.column("units")
    assert (units[flag == BUNDLE_TAKEN] >= 2).all()
    assert (flag == BUNDLE_TAKEN).sum() == a_on["bundle_orders"].sum() > 150
    assert (m_off.firm.orders.column("bundle") == BUNDLE_TAKEN).sum() == 0
    assert a_off["bundle_offers"].sum() > 150
    value_on = a_on["bundle_offer_gmv_base"].sum() / a_on["bundle_offers"].sum()
    value_off = a_off["bundle_offer_gmv_base"].sum() / a_off["bundle_offers"].sum()
    assert 1.6 < value_on / value_off < 1.8, value_on / value_off
    assert a_on["bundle_discount_base"].sum() > 0
    # who is offered: customers with 2 to 4 orders (the order being placed is not counted)
    seq = book.column("seq")[flag > 0]
    assert seq.min() >= 3 and seq.max() <= 5


def test_marketplace_books_commission_and_fees_and_brings_traffic() -> None:
    """Commission x GMV + fee x orders booked as marketplace fees (a cost line in net
    profit); the marketplace's traffic makes more consumers aware."""
    mp = {
        "channel": "marketplace",
        "marketplace": {
            "commission_share": 0.12,
            "fee_per_order_base": 0.5,
            "initial_awareness_share": 0.2,
            "traffic_p_daily": 0.002,
        },
    }
    _, a = _run(_world(sales=mp), days=30)
    _, own = _run(_world(), days=30)
    expected = 0.12 * a["gmv_base"].sum() + 0.5 * a["orders"].sum()
    assert math.isclose(a["marketplace_fees_base"].sum(), expected, rel_tol=1e-9)
    assert own["marketplace_fees_base"].sum() == 0
    assert a["aware_share"].iloc[0] > own["aware_share"].iloc[0] + 0.15
    assert a["orders"].sum() > own["orders"].sum()


def test_transactions_carry_units_and_the_bundle_flag() -> None:
    offer = {"units": 3, "discount_share": 0.1, "take_rate": 0.5}
    model, _ = _run(_world(0.5, 3, returns=0.2, bundles=offer), days=40)
    tx = model.transactions()
    assert {"quantity", "returned_units", "bundle"} <= set(tx.columns)
    assert set(tx["bundle"]) <= {"none", "offered", "taken"}
    assert (tx.loc[tx["bundle"] == "taken", "quantity"] >= 3).all()
    assert (tx["returned_units"] <= tx["quantity"]).all()


def test_neutral_blocks_change_nothing() -> None:
    """Explicit neutral baskets, own-site sales (any freight share) and no bundle taker run
    bit-identically to a scenario without the blocks (the golden lock checks the shipped
    scenarios)."""

    def neutral(d: dict) -> None:
        region = d["regions"][0]
        region["segments"][0]["basket"] = {"extra_units_mean": 0.0, "max_units": 7}
        region["sales"] = {"channel": "own_site", "extra_unit_freight_share": 0.3}

    plain = new_model(make_scenario(), seed=5, days=40).run()
    same = new_model(make_scenario(neutral), seed=5, days=40).run()
    pd.testing.assert_frame_equal(plain, same)
