"""One test per money defect of issue 11 (each failed on the code before the fix)."""

from __future__ import annotations

import math

import numpy as np
from helpers import make_scenario
from test_accounting import World, add_local_warehouse

from sim.kpis import ALL_REGIONS
from sim.model import MarketModel
from sim.orders import STATUS_RETURNED
from tests.helpers import new_model


def run(modify, days: int = 60, seed: int = 5) -> tuple[MarketModel, object]:
    model = new_model(make_scenario(modify), seed=seed, days=days)
    frame = model.run()
    return model, frame[frame["region"] == ALL_REGIONS]


def test_a_return_reverses_vat_and_duty_only_where_refunded() -> None:
    """Every order returned: refunds are net of VAT, all VAT collected on returned orders is
    reversed, and duty comes back only where the region refunds it."""

    def returns(refunded: bool):
        def modify(d: dict) -> None:
            for p in d["products"]:
                p["return_probability"] = 1.0
            d["lanes"][0]["loss_probability"] = 0.0
            d["regions"][0]["tax"]["duty_refunded_on_return"] = refunded

        return modify

    for refunded in (False, True):
        model, a = run(returns(refunded))
        book = model.firm.orders
        done = book.column("status") == STATUS_RETURNED
        assert done.sum() > 100
        vat = book.column("vat_base").astype(float)
        paid = book.column("paid_base").astype(float)
        duty = book.column("duty_base").astype(float)
        assert math.isclose(a["vat_reversed_base"].sum(), vat[done].sum(), rel_tol=1e-5)
        assert math.isclose(a["refunds_base"].sum(), (paid - vat)[done].sum(), rel_tol=1e-5)
        kept_duty = duty.sum() - (duty[done].sum() if refunded else 0.0)
        assert duty.sum() > 0
        assert math.isclose(a["duty_base"].sum(), kept_duty, rel_tol=1e-5, abs_tol=1e-3)


def test_revenue_is_net_of_vat_and_fx_fee_excludes_taxes() -> None:
    """Revenue excludes VAT; the FX fee is charged on proceeds net of VAT and duty."""
    model, a = run(None)
    fee = model.scenario.firm.fx_conversion_fee
    assert math.isclose(
        a["revenue_base"].sum(), a["gmv_base"].sum() - a["vat_collected_base"].sum(), rel_tol=1e-9
    )
    proceeds = a["revenue_base"].sum() - a["duty_base"].sum()
    assert math.isclose(a["fx_cost_base"].sum(), fee * proceeds, rel_tol=1e-6)


def _local(initial_units: int):
    world = World(1, 0.6, 3000, 0.0, 0.05, initial_units, 60, False)

    def modify(d: dict) -> None:
        add_local_warehouse(d, world)

    return modify


def test_a_stock_lane_departure_carries_several_products() -> None:
    """Both products fall to the reorder point together: one departure carries both (one
    shipment, capacity permitting), not one shipment per product."""
    model = new_model(make_scenario(_local(0)), seed=3, days=40)
    lane = model.lanes["cn-loc-sea"]
    loc = model.firm.warehouse_index["LOC"]
    several = 0
    while model.day < model.horizon_days:
        before = model.firm.on_order[loc].copy()
        started = lane.shipments_started
        model.step()
        products_sent = int((model.firm.on_order[loc] > before).sum())
        shipments = lane.shipments_started - started
        if products_sent:
            units = int((model.firm.on_order[loc] - before).clip(min=0).sum())
            assert shipments == math.ceil(units / lane.lane.max_units_per_shipment)
            several += products_sent > 1
    assert several >= 1


def test_opening_stock_is_bought_and_costed() -> None:
    """A pre-stocked local warehouse's stock is bought (purchase price), shipped (stock-lane
    freight) and cleared (duty of its region) on day 0; its units carry that landed cost."""
    sc = make_scenario(_local(50))
    model = new_model(sc, seed=3, days=1)  # before day 0 runs: the opening purchase only
    firm = model.firm
    cost = np.array([p.unit_cost_base for p in sc.products])
    home_units = sc.firm.warehouses[0].initial_units
    purchases = firm.today["purchases_base"].sum() + firm.firm_today["purchases_base"]
    assert math.isclose(purchases, (home_units + 50) * cost.sum(), rel_tol=1e-9)
    lane = next(x for x in sc.lanes if x.id == "cn-loc-sea")
    units = 50 * len(cost)
    freight = units * lane.cost_per_unit_base + lane.cost_per_shipment_base
    duty = sc.regions[0].tax.duty_rate * 50 * cost.sum()
    assert math.isclose(firm.today["capitalised_base"][0], freight + duty, rel_tol=1e-9)
    assert firm.firm_today["capitalised_base"] == 0.0  # the home warehouse has no landing costs
    model.run()
    a = model.kpi_frame().query("region == 'ALL'").iloc[0]
    assert a["purchases_base"] >= purchases  # booked on day 0
    loc = model.firm.warehouse_index["LOC"]
    assert (model.firm.inventory.unit_value_base[loc] > cost).all()


def test_an_empty_local_warehouse_opens_when_its_stock_arrives() -> None:
    """Choosing a local warehouse with no stock keeps serving cross-border until its first
    replenishment lands: no stockout is caused by switching to an empty warehouse."""
    model = new_model(make_scenario(_local(0)), seed=3, days=40)
    loc = model.firm.warehouse_index["LOC"]
    opened = None
    while model.day < model.horizon_days:
        model.step()
        if opened is None and model.firm.ready[loc]:
            opened = model.day
    assert opened is not None and opened > 1
    frame = model.kpi_frame()
    early = frame[(frame["region"] == ALL_REGIONS) & (frame["day"] < opened - 1)]
    assert early["units"].sum() > 0
    assert early["stockouts"].sum() == 0


def test_running_out_of_cash_and_credit_stops_spending_and_says_when() -> None:
    """No cash and no credit line: from the first day the position is negative, reorders,
    marketing and retention stop; the run reports the day."""

    def broke(d: dict) -> None:
        d["firm"]["starting_cash_base"] = 0.0
        d["firm"]["finance"] = {"credit_limit_base": 0.0, "supplier_payment_days": 0}
        d["firm"]["warehouses"][0]["initial_units"] = 30

    model, a = run(broke, days=60)
    day = model.firm.treasury.exhausted_day
    assert day is not None and day <= 2
    stopped = a[a["spending_stopped"] == 1]
    assert len(stopped) > 0 and int(stopped["day"].iloc[0]) == day
    assert (stopped["marketing_base"] == 0).all()
    # no supplier purchase is placed while stopped: nothing arrives after the lead time
    lead = model.scenario.firm.warehouses[0].supplier_lead_days
    stopped_days = set(stopped["day"].tolist())
    for _, row in a.iterrows():
        if row["purchases_base"] > 0 and row["day"] > 0:
            assert int(row["day"]) - lead not in stopped_days


def test_credit_costs_interest() -> None:
    """Unlimited credit at 12% a year: daily interest = yesterday's credit drawn x 12%/365."""

    def borrow(d: dict) -> None:
        d["firm"]["starting_cash_base"] = -20_000.0
        d["firm"]["finance"] = {"credit_interest_annual": 0.12}

    _, a = run(borrow, days=30)
    drawn_last_night = np.r_[20_000.0, a["credit_drawn_base"].to_numpy()[:-1]]
    assert (drawn_last_night > 0).all()
    assert np.allclose(a["interest_base"], drawn_last_night * 0.12 / 365, rtol=1e-12)
