"""Accounting and conservation properties over random seeds and perturbations of tiny.yaml.

Each property runs a handful of small simulations (population 500-3000, 20-60 days); the
worlds perturb the markup, population, loss and return probabilities, initial inventory
(0 forces stockouts until the first supplier delivery), the horizon and, optionally, add a
second region served by its own lane so that the ``ALL`` rows aggregate several regions.
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
from sim.kpis import ALL_REGIONS, COST_KPIS, FLOW_KPIS
from sim.model import MarketModel
from sim.orders import STATUS_LOST, STATUS_RETURNED
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
)
STOCKOUT_WORLD = World(1, 0.6, 3000, 0.05, 0.2, 0, 30, True)


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
@PROPERTY
@given(worlds)
@example(STOCKOUT_WORLD)
def test_profit_identities_and_all_rows(w: World) -> None:
    """net = revenue - every cost KPI and gross = revenue - refunds - duties/VAT - COGS -
    freight on every row (1e-6 relative); each ALL-row flow is the sum of the region rows,
    except fixed costs, where ALL adds the firm-level fixed costs (fixed + home-warehouse
    costs, prorated per day) that no region row carries."""
    run = simulate(w)
    f, sc = run.frame, run.model.scenario
    costs = f[list(COST_KPIS)].sum(axis=1)
    bad = ~close(f["net_profit_base"], f["revenue_base"] - costs)
    assert not bad.any(), f"net profit identity fails on rows {f.index[bad].tolist()}"
    gross = f["revenue_base"] - f[
        ["refunds_base", "duties_vat_base", "cogs_base", "freight_base"]
    ].sum(axis=1)
    assert close(f["gross_profit_base"], gross).all()

    regions = f[f["region"] != ALL_REGIONS]
    all_rows = f[f["region"] == ALL_REGIONS].set_index("day")
    assert sorted(regions["region"].unique()) == sorted(r.id for r in sc.regions)
    summed = regions.groupby("day")[list(FLOW_KPIS)].sum()
    home_fixed = sum(wh.monthly_fixed_cost_base for wh in sc.firm.warehouses if wh.region is None)
    firm_fixed = (sc.firm.fixed_costs_monthly_base + home_fixed) / DAYS_PER_MONTH
    for k in FLOW_KPIS:
        extra = {"fixed_base": firm_fixed, "net_profit_base": -firm_fixed}.get(k, 0.0)
        ok = close(all_rows[k], summed[k] + extra)
        assert ok.all(), f"ALL {k} != sum of regions (+ firm-level {extra}) on days " + str(
            all_rows.index[~ok].tolist()
        )
    # region rows carry only their compliance costs as fixed costs
    for r in sc.regions:
        daily = r.regulation.compliance_cost_monthly_base / DAYS_PER_MONTH
        assert close(regions.loc[regions["region"] == r.id, "fixed_base"], daily).all()
    # ratios on ALL rows are ratios of the summed flows
    share = all_rows["units"] / all_rows["market_units"].where(all_rows["market_units"] > 0)
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
    assert int(all_rows["lost_orders"].sum()) == counts["lost"]
    status = book.column("status")
    refunded = np.isin(status, [STATUS_LOST, STATUS_RETURNED])
    expected_refunds = float(book.column("paid_base")[refunded].astype(float).sum())
    assert math.isclose(
        all_rows["refunds_base"].sum(), expected_refunds, rel_tol=1e-6, abs_tol=1e-6
    )
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
    assert (f["stockouts"] == f["demanded_units"] - f["units"]).all()
    assert (f["units"] <= f["market_units"]).all()
    assert (f["market_units"] <= f["occasions"]).all()
    assert (f["orders"] == f["units"]).all()  # one unit per order
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
def test_cash_identity(w: World) -> None:
    """cash(last) = starting cash + sum(revenue) - sum(costs except COGS) - supplier purchases,
    where purchases = unit cost x (on hand + on order - initial stock + units sold) (returns
    are not restocked); equivalently cash = start + sum(net profit) - change in inventory value
    at unit cost. COGS equals unit cost x units sold per the order book (1e-6 relative)."""
    run = simulate(w)
    model, f, sc = run.model, run.frame, run.model.scenario
    firm = model.firm
    all_rows = f[f["region"] == ALL_REGIONS]
    sold = np.bincount(
        firm.orders.column("product").astype(np.int64), minlength=firm.n_products
    ).astype(float)
    assert math.isclose(
        all_rows["cogs_base"].sum(), float(firm.unit_cost_base @ sold), rel_tol=REL, abs_tol=1e-6
    )
    initial = np.array(
        [
            [wh.initial_units if wh.region is None else 0] * firm.n_products
            for wh in sc.firm.warehouses
        ],
        dtype=float,
    )
    purchased_units = (firm.on_hand + firm.on_order - initial).sum(axis=0) + sold
    assert (purchased_units >= 0).all()
    purchases = float(firm.unit_cost_base @ purchased_units)
    non_cogs = sum(all_rows[k].sum() for k in COST_KPIS if k != "cogs_base")
    expected = sc.firm.starting_cash_base + all_rows["revenue_base"].sum() - non_cogs - purchases
    cash = float(all_rows["cash_base"].iloc[-1])
    assert math.isclose(cash, expected, rel_tol=REL, abs_tol=1e-6), (
        f"cash {cash} vs start + revenue - costs - purchases = {expected}"
    )
    assert cash == firm.cash_base
