"""Accounting and conservation properties over random seeds and perturbations of tiny.yaml.

Each property runs a handful of small simulations (population 500-3000, 20-60 days); the
worlds perturb the markup, population, loss and return probabilities, initial inventory
(0 forces stockouts until the first supplier delivery), the horizon, taxes and the money
side (supplier terms, a credit line and its interest, holding cost, dead-stock write-off,
duty refunds) and, optionally, add a second region served by its own lane so that the
``ALL`` rows aggregate several regions, and a local warehouse in the first region supplied
over a stock lane (opening stock, consolidated replenishment, landed cost).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from helpers import make_scenario
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.calendar import DAYS_PER_MONTH
from sim.contract import PAYMENT_METHODS
from sim.kpis import ALL_ONLY_FLOWS, ALL_REGIONS, COST_KPIS, FLOW_KPIS, NON_CASH_COSTS
from sim.model import MarketModel
from sim.orders import STATUS_LOST, STATUS_REFUSED, STATUS_RETURNED
from tests.helpers import new_model

REL = 1e-6
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class World:
    seed: int
    markup: float
    population: int
    loss_probability: float
    return_probability: float
    initial_units: int
    horizon_days: int
    second_region: bool
    local_warehouse: bool = False
    starting_cash: float = 50_000.0
    credit_limit: float | None = None
    interest_annual: float = 0.0
    supplier_payment_days: int = 0
    holding_per_unit_day: float = 0.0
    dead_stock_days: int | None = None
    duty_refunded: bool = False
    vat_rate: float = 0.2
    payment_success: float = 1.0
    retry_share: float = 0.0
    cod_refusal: float = 0.0
    extra_units: float = 0.0  # basket: 1 + Poisson(extra_units) units per order, at most 4
    bundle_take: float = 0.0  # a 3-unit bundle at 20% off for growing customers
    marketplace: bool = False  # XA sells on a marketplace (commission, order fee, traffic)


worlds = st.builds(
    World,
    seed=st.integers(0, 2**32 - 1),
    markup=st.floats(0.0, 2.0),
    population=st.integers(500, 3000),
    loss_probability=st.floats(0.0, 0.5),
    return_probability=st.floats(0.0, 1.0),
    initial_units=st.sampled_from([0, 3, 40, 400]),
    horizon_days=st.integers(20, 60),
    second_region=st.booleans(),
    local_warehouse=st.booleans(),
    starting_cash=st.sampled_from([0.0, 2_000.0, 50_000.0]),
    credit_limit=st.sampled_from([None, 0.0, 5_000.0]),
    interest_annual=st.floats(0.0, 0.3),
    supplier_payment_days=st.integers(0, 45),
    holding_per_unit_day=st.floats(0.0, 0.05),
    dead_stock_days=st.sampled_from([None, 5, 20]),
    duty_refunded=st.booleans(),
    vat_rate=st.floats(0.0, 0.3),
    payment_success=st.floats(0.3, 1.0),
    retry_share=st.floats(0.0, 1.0),
    cod_refusal=st.floats(0.0, 0.5),
    extra_units=st.sampled_from([0.0, 0.0, 1.5]),
    bundle_take=st.sampled_from([0.0, 0.7]),
    marketplace=st.booleans(),
)
STOCKOUT_WORLD = World(1, 0.6, 3000, 0.05, 0.2, 0, 30, True)
MONEY_WORLD = World(
    3,
    0.6,
    2000,
    0.05,
    0.3,
    40,
    45,
    True,
    True,
    2_000.0,
    5_000.0,
    0.2,
    20,
    0.01,
    5,
    True,
    0.2,
    0.7,
    0.5,
    0.3,
)


def build(w: World):
    def modify(d: dict) -> None:
        d["horizon_days"] = w.horizon_days
        region = d["regions"][0]
        region["population"] = w.population
        for p in d["products"]:
            p["return_probability"] = w.return_probability
        lane = d["lanes"][0]
        lane["loss_probability"] = w.loss_probability
        d["firm"]["warehouses"][0]["initial_units"] = w.initial_units
        d["firm"]["warehouses"][0]["monthly_fixed_cost_base"] = 300.0
        d["strategies"]["pricing"] = {"name": "cost_plus", "params": {"markup": w.markup}}
        region["tax"] = {**region["tax"], "vat_rate": w.vat_rate}
        region["tax"]["duty_refunded_on_return"] = w.duty_refunded
        region["payments"] = {
            "success_rate": {"card": w.payment_success, "cod": min(1.0, w.payment_success + 0.2)},
            "retry_share": w.retry_share,
            "cod_refusal_rate": w.cod_refusal,
            "return_to_origin_cost_base": 4.0,
        }
        d["firm"]["supported_payment_methods"] = ["card", "cod"]
        region["segments"][0]["basket"] = {"extra_units_mean": w.extra_units, "max_units": 4}
        if w.marketplace:
            region["sales"] = {
                "channel": "marketplace",
                "marketplace": {"commission_share": 0.1, "fee_per_order_base": 0.3},
                "extra_unit_freight_share": 0.5,
            }
        firm = d["firm"]
        if w.bundle_take:
            firm["bundles"] = {"units": 3, "discount_share": 0.2, "take_rate": w.bundle_take}
        firm["starting_cash_base"] = w.starting_cash
        firm["finance"] = {
            "credit_limit_base": w.credit_limit,
            "credit_interest_annual": w.interest_annual,
            "supplier_payment_days": w.supplier_payment_days,
        }
        home = firm["warehouses"][0]
        home["holding_cost_per_unit_day_base"] = w.holding_per_unit_day
        home["dead_stock_days"] = w.dead_stock_days
        if w.local_warehouse:
            add_local_warehouse(d, w)
        if w.second_region:
            second = {
                **region,
                "id": "XB",
                "population": max(500, w.population // 2),
                "fx": {"local_per_base": 7.0, "daily_volatility": 0.01},
                "regulation": {"compliance_cost_monthly_base": 150.0},
                "taboo_tags": [],
            }
            d["regions"].append(second)
            d["lanes"].append({**lane, "id": "cn-xb-air", "destination": "XB"})
            d["firm"]["marketing_budget_monthly_base"]["XB"] = 600.0

    return make_scenario(modify)


def add_local_warehouse(d: dict, w: World) -> None:
    """A warehouse LOC in XA, stocked from CN over a stock lane, used from day 0."""
    lane = d["lanes"][0]
    d["lanes"].append(
        {
            **lane,
            "id": "cn-loc-sea",
            "destination": "XA",
            "carries": "stock",
            "cost_per_unit_base": 0.7,
            "cost_per_shipment_base": 300.0,
            "max_units_per_shipment": 500,
        }
    )
    d["lanes"].append(
        {
            **lane,
            "id": "loc-xa",
            "origin": "LOC",
            "promised_days": 3,
            "customs": None,
            "stages": [lane["stages"][0]],
            "cost_per_unit_base": 1.0,
        }
    )
    d["firm"]["warehouses"].append(
        {
            "id": "LOC",
            "region": "XA",
            "replenish_from": "CN",
            "initial_units": min(w.initial_units, 50),
            "holding_cost_per_unit_day_base": w.holding_per_unit_day,
            "dead_stock_days": w.dead_stock_days,
        }
    )
    d["firm"]["inventory_policy"].append(
        {"warehouse": "LOC", "reorder_point": 60, "order_quantity": 200}
    )
    d["strategies"]["localization"] = {
        "name": "invest",
        "params": {"regions": ["XA"], "local_warehouse": True, "human_translation": False},
    }


@dataclass
class Run:
    model: MarketModel
    frame: pd.DataFrame
    min_on_hand: int
    min_on_order: int


def simulate(w: World) -> Run:
    model = new_model(build(w), seed=w.seed)
    min_on_hand = min_on_order = 0
    while model.day < model.horizon_days:
        model.step()
        min_on_hand = min(min_on_hand, int(model.firm.on_hand.min()))
        min_on_order = min(min_on_order, int(model.firm.on_order.min()))
    return Run(model, model.kpi_frame(), min_on_hand, min_on_order)


def close(a, b, rel: float = REL) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    return np.abs(a - b) <= rel * scale


# --------------------------------------------------------------------------- (a) P&L
#: cost lines a region row does not carry in full (firm-level: fixed costs and home
#: warehouses' holding and write-offs, interest); purchases and capitalised costs of home
#: warehouses likewise
FIRM_LEVEL = ("fixed_base", "holding_base", "writeoff_base", "interest_base")
FIRM_LEVEL_STOCK = (
    "purchases_base",
    "capitalised_base",
    *("dead_stock_units", "dead_stock_base", "dead_stock_unlisted_units"),
    "dead_stock_unlisted_base",
)


@PROPERTY
@given(worlds)
@example(STOCKOUT_WORLD)
@example(MONEY_WORLD)
def test_profit_identities_and_all_rows(w: World) -> None:
    """net = revenue - every cost line and gross = revenue - refunds - duty - COGS - freight
    on every row (1e-6 relative); VAT stays out of profit (collected - reversed = remitted);
    each ALL-row flow is the sum of the region rows, except the firm-level lines (fixed costs,
    interest, home warehouses' holding, write-offs, purchases and capitalised costs), where
    ALL adds a non-negative firm-level amount that no region row carries; GMV = revenue +
    VAT collected."""
    run = simulate(w)
    f, sc = run.model.kpi_frame(), run.model.scenario
    costs = f[list(COST_KPIS)].sum(axis=1)
    bad = ~close(f["net_profit_base"], f["revenue_base"] - costs)
    assert not bad.any(), f"net profit identity fails on rows {f.index[bad].tolist()}"
    gross = f["revenue_base"] - f[["refunds_base", "duty_base", "cogs_base", "freight_base"]].sum(
        axis=1
    )
    assert close(f["gross_profit_base"], gross).all()
    assert close(f["vat_remitted_base"], f["vat_collected_base"] - f["vat_reversed_base"]).all()
    assert close(f["gmv_base"], f["revenue_base"] + f["vat_collected_base"]).all()

    regions = f[f["region"] != ALL_REGIONS]
    all_rows = f[f["region"] == ALL_REGIONS].set_index("day")
    assert sorted(regions["region"].unique()) == sorted(r.id for r in sc.regions)
    summed = regions.groupby("day")[list(FLOW_KPIS)].sum()
    firm_only = set(FIRM_LEVEL + FIRM_LEVEL_STOCK + ALL_ONLY_FLOWS)
    for k in FLOW_KPIS:
        if k in firm_only or k in ("net_profit_base",):
            continue
        ok = close(all_rows[k], summed[k])
        assert ok.all(), f"ALL {k} != sum of regions on days " + str(all_rows.index[~ok].tolist())
    extra = {k: all_rows[k] - summed[k] for k in FIRM_LEVEL + FIRM_LEVEL_STOCK}
    for k, v in extra.items():
        assert (v >= -1e-6 * np.maximum(1.0, all_rows[k].abs())).all(), k
    home_fixed = sum(wh.monthly_fixed_cost_base for wh in sc.firm.warehouses if wh.region is None)
    firm_fixed = (sc.firm.fixed_costs_monthly_base + home_fixed) / DAYS_PER_MONTH
    assert close(extra["fixed_base"], firm_fixed).all()
    assert close(
        all_rows["net_profit_base"] - summed["net_profit_base"],
        -sum(extra[k] for k in FIRM_LEVEL),
    ).all()
    # region rows carry only their compliance costs as fixed costs
    for r in sc.regions:
        daily = r.regulation.compliance_cost_monthly_base / DAYS_PER_MONTH
        assert close(regions.loc[regions["region"] == r.id, "fixed_base"], daily).all()
    # ratios on ALL rows are ratios of the summed flows
    share = all_rows["orders"] / all_rows["market_units"].where(all_rows["market_units"] > 0)
    pd.testing.assert_series_equal(
        all_rows["market_share"], share, check_names=False, check_exact=False, rtol=1e-12
    )


# --------------------------------------------------------------------------- (b) inventory
@PROPERTY
@given(worlds)
@example(STOCKOUT_WORLD)
def test_inventory_never_negative(w: World) -> None:
    """On-hand and on-order stock are never negative after any day."""
    run = simulate(w)
    assert run.min_on_hand >= 0, f"on-hand stock went to {run.min_on_hand}"
    assert run.min_on_order >= 0, f"on-order stock went to {run.min_on_order}"
    inv = run.frame.loc[run.frame["region"] == ALL_REGIONS, "inventory_units"]
    assert (inv >= 0).all()


@PROPERTY
@given(worlds)
@example(MONEY_WORLD)
def test_inventory_value_and_units_are_conserved(w: World) -> None:
    """Every day: inventory value = opening + landed purchases (price + capitalised freight
    and duty) - COGS - write-offs (opening stock is bought on day 0, so opening = 0); every
    unit bought is on hand, in transit, sold, written off or lost; COGS = landed unit value x
    units sold never falls below the supplier price of the units sold."""
    run = simulate(w)
    model = run.model
    a = run.frame[run.frame["region"] == ALL_REGIONS]
    cum = (
        a["purchases_base"] + a["capitalised_base"] - a["cogs_base"] - a["writeoff_base"]
    ).cumsum()
    assert close(a["inventory_value_base"], cum, rel=1e-6).all()
    inv = model.firm.inventory
    assert inv.units_balance() == 0
    t = inv.totals
    assert t.sold_units == int(a["units"].sum())
    sold = model.firm.orders.column("product").astype(np.int64)
    price_of_sold = float(model.firm.unit_cost_base[sold].sum())
    assert a["cogs_base"].sum() >= price_of_sold * (1 - 1e-9)


# --------------------------------------------------------------------------- (c) orders
@PROPERTY
@given(worlds)
@example(STOCKOUT_WORLD)
def test_every_order_is_accounted_for(w: World) -> None:
    """Every order is in transit, delivered, lost or returned; the last in_transit KPI and
    the cumulative delivery/return/loss/refund flows agree with the order book."""
    run = simulate(w)
    model, f = run.model, run.frame
    counts = model.order_status_counts()
    book = model.firm.orders
    assert sum(counts.values()) == len(book)
    all_rows = f[f["region"] == ALL_REGIONS]
    assert int(all_rows["in_transit"].iloc[-1]) == counts["in_transit"]
    assert int(all_rows["orders"].sum()) == len(book)
    assert int(all_rows["deliveries"].sum()) == counts["delivered"] + counts["returned"]
    assert int(all_rows["returns"].sum()) == counts["returned"]
    back = book.column("returned_units").astype(float)
    assert int(all_rows["returned_units"].sum()) == int(back.sum())
    assert int(all_rows["units"].sum()) == int(book.column("units").sum())
    assert int(all_rows["lost_orders"].sum()) == counts["lost"]
    assert int(all_rows["cod_refusals"].sum()) == counts["refused"]
    method = book.column("method")
    assert (method[book.column("status") == STATUS_REFUSED] == PAYMENT_METHODS.index("cod")).all()
    assert int(all_rows["checkouts"].sum()) == len(book) + int(all_rows["failed_payments"].sum())
    status = book.column("status")
    refunded = np.isin(status, [STATUS_LOST, STATUS_RETURNED, STATUS_REFUSED])
    paid = book.column("paid_base").astype(float)
    vat = book.column("vat_base").astype(float)
    duty = book.column("duty_base").astype(float)
    # a returned order refunds its returned units' share; lost and refused ones all of it
    units = book.column("units").astype(float)
    share = np.where(status == STATUS_RETURNED, back / units, 1.0)
    expected = {
        "refunds_base": float(((paid - vat) * share)[refunded].sum()),
        "vat_collected_base": float(vat.sum()),
        "vat_reversed_base": float((vat * share)[refunded].sum()),
        "gmv_base": float(paid.sum()),
        "duty_base": float(
            duty.sum() - ((duty * share)[refunded].sum() if w.duty_refunded else 0.0)
        ),
    }
    for k, value in expected.items():
        assert math.isclose(all_rows[k].sum(), value, rel_tol=1e-5, abs_tol=1e-3), k
    # per region, in transit = placed so far - completed so far
    last = f[(f["region"] != ALL_REGIONS) & (f["day"] == f["day"].max())]
    region = book.column("region")
    for r, region_id in enumerate(model.region_ids):
        in_transit = int(((region == r) & (status == 0)).sum())
        assert int(last.loc[last["region"] == region_id, "in_transit"].iloc[0]) == in_transit


# --------------------------------------------------------------------------- (d) demand
@PROPERTY
@given(worlds)
@example(STOCKOUT_WORLD)
def test_units_sold_within_demand(w: World) -> None:
    """Per row: units <= demanded units, stockouts = demanded - units, units <= market units
    <= occasions; a world starting with no stock has stockouts."""
    f = simulate(w).frame
    assert (f["units"] <= f["demanded_units"]).all()
    # units of orders whose payment failed: one each, up to the largest basket (4 units)
    unpaid = f["demanded_units"] - f["units"] - f["stockouts"]
    assert (f["failed_payments"] <= unpaid).all() and (unpaid <= 4 * f["failed_payments"]).all()
    assert (f["failed_payments"] <= f["checkouts"]).all()
    assert (f["orders"] <= f["market_units"]).all()
    assert (f["market_units"] <= f["occasions"]).all()
    assert (f["orders"] <= f["units"]).all()
    # orders chosen (before stock and payment): filled or failed at payment, the rest lost to
    # empty stock; each chosen order demands at least its first unit
    chosen = f["chosen_orders"]
    assert (f["orders"] + f["failed_payments"] <= chosen).all()
    assert (chosen <= f["demanded_units"]).all()
    assert (chosen - f["orders"] - f["failed_payments"] <= f["stockouts"]).all()
    if w.extra_units == 0 and not w.bundle_take:
        assert (f["orders"] == f["units"]).all()  # one unit per order
        assert (chosen == f["demanded_units"]).all()
        assert (unpaid == f["failed_payments"]).all()
    early = f[f["day"] < 10]  # before the first replenishment (supplier lead time 10 days)
    if w.initial_units == 0:
        assert early["units"].sum() == 0
        assert early["stockouts"].sum() == early["demanded_units"].sum()


def test_a_world_without_stock_has_stockouts() -> None:
    """The fixed no-stock world: every unit demanded before the first delivery is lost."""
    f = simulate(STOCKOUT_WORLD).frame
    early = f[f["day"] < 10]
    assert early["demanded_units"].sum() > 0
    assert early["stockouts"].sum() == early["demanded_units"].sum() > 0


# --------------------------------------------------------------------------- (e) cash
@PROPERTY
@given(worlds)
@example(STOCKOUT_WORLD)
@example(MONEY_WORLD)
def test_cash_identity(w: World) -> None:
    """Every day: cash - credit drawn = starting cash + receipts - payments - interest; cash
    and credit are never both positive; interest is charged only on credit drawn; payments =
    cash costs (every cost line but COGS, write-offs and interest) + capitalised freight and
    duty + supplier invoices due; receipts = sales net of VAT settled so far."""
    run = simulate(w)
    model, f, sc = run.model, run.frame, run.model.scenario
    a = f[f["region"] == ALL_REGIONS]
    position = a["cash_base"] - a["credit_drawn_base"]
    flows = (a["receipts_base"] - a["payments_base"] - a["interest_base"]).cumsum()
    assert close(position, sc.firm.starting_cash_base + flows, rel=1e-6).all()
    assert ((a["cash_base"] == 0) | (a["credit_drawn_base"] == 0)).all()
    opening_credit = max(-sc.firm.starting_cash_base, 0.0)
    drawn_last_night = np.r_[opening_credit, a["credit_drawn_base"].to_numpy()[:-1]]
    rate = sc.firm.finance.credit_interest_annual / 365
    assert np.allclose(a["interest_base"], drawn_last_night * rate, rtol=1e-12, atol=1e-12)
    cash_costs = sum(a[k] for k in COST_KPIS if k not in NON_CASH_COSTS)
    invoices = a["payments_base"] - cash_costs - a["capitalised_base"]
    assert (invoices >= -1e-6 * np.maximum(1.0, a["payments_base"].abs())).all()
    assert math.isclose(
        invoices.sum() + a["payables_base"].iloc[-1],
        a["purchases_base"].sum(),
        rel_tol=1e-6,
        abs_tol=1e-6,
    )
    assert math.isclose(
        a["receipts_base"].sum() + a["receivables_base"].iloc[-1],
        a["revenue_base"].sum(),
        rel_tol=1e-6,
        abs_tol=1e-6,
    )
    assert position.iloc[-1] == model.firm.treasury.position_base
