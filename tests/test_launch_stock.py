"""Launch stock held at the destination, and fit priors per region (issue 12)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import make_scenario

from sim.errors import ScenarioError
from sim.kpis import ALL_REGIONS
from strategies.selection import ThreeFactor, TopMargin
from tests.helpers import ListThenDelist, new_model


def _two_regions(
    location: str = "destination",
    fit: dict | None = None,
    rate: float = 0.0,
    stock_units: int = 200,
):
    """tiny.yaml with a second region XB (a copy of XA, its own air lane), both served from
    CN with no opening stock and no reorders: only launch stock is sold."""

    def modify(d: dict) -> None:
        second = copy.deepcopy(d["regions"][0])
        second["id"] = "XB"
        d["regions"].append(second)
        d["lanes"].append({**d["lanes"][0], "id": "cn-xb-air", "destination": "XB"})
        d["firm"]["marketing_budget_monthly_base"]["XB"] = 1500
        offers = d["competitors"][0]["offers"]
        offers.append({**offers[0], "region": "XB"})
        for r in d["regions"]:
            r["population"] = 20_000
            r["awareness"]["initial_share"] = 0.6
        wh = d["firm"]["warehouses"][0]
        wh.update(initial_units=0, dead_stock_days=30, holding_cost_per_unit_day_base=0.01)
        d["firm"]["inventory_policy"] = []
        d["firm"]["launch"] = {
            "stock_units": stock_units,
            "stock_location": location,
            "destination_holding_cost_per_unit_day_base": rate,
        }
        if fit is not None:
            for p in d["products"]:
                p["fit"] = fit

    return make_scenario(modify)


def _region_sums(frame, column: str) -> dict[str, float]:
    return frame.groupby("region")[column].sum().to_dict()


def test_destination_stock_is_held_for_its_listing_and_written_off_when_delisted() -> None:
    """XB's launch stock of the lamp is XB's alone: XA sells at most its own 600 lamps, and
    when XB delists the lamp its unsold reservation is written off that day (booked to XB);
    pooled (serving_warehouse), XA sells XB's lamps too and nothing is written off."""
    out = {}
    for location in ("destination", "serving_warehouse"):
        model = new_model(
            _two_regions(location, stock_units=600),
            seed=3,
            days=40,
            strategies={"selection": ListThenDelist(7, ("XB",))},
        )
        f = model.run()
        tx = model.transactions()
        lamps = tx[tx["product"] == "lamp"].groupby("region")["quantity"].sum().to_dict()
        out[location] = (f, lamps, model)
    f, lamps, model = out["destination"]
    assert lamps["XA"] <= 600
    xb_sold = lamps.get("XB", 0)
    dead = f[f["region"] == "XB"].set_index("day")["dead_stock_units"]
    assert list(dead.index[dead > 0]) == [7] and dead.sum() == 600 - xb_sold
    assert model.fit.destination.written_off[1, 1] == 600 - xb_sold
    assert model.firm.inventory.units_balance() == 0
    assert np.isclose(
        _region_sums(f, "writeoff_base")["XB"], (600 - xb_sold) * 12.0
    )  # landed value of a lamp bought at CN: its unit cost
    f_pool, lamps_pool, _ = out["serving_warehouse"]
    assert lamps_pool["XA"] > 600  # it sold XB's launch stock as well
    assert f_pool[f_pool["region"] == ALL_REGIONS]["dead_stock_units"].sum() == 0


def test_a_listing_that_sells_nothing_is_written_off_after_dead_stock_days() -> None:
    """A region prior so poor that the lamp never sells in XB: its reservation goes dead 30
    days after launch while XA's lamps sell; holding at the destination rate is booked."""
    fit = {"mean": 0.0, "sd": 0.0}
    sc = _two_regions(fit=fit, rate=0.05)
    sc.products[1].fit.region_mean["XB"] = -10.0  # lamp: hopeless in XB
    model = new_model(sc, seed=2, days=40)
    f = model.run()
    assert model.fit.appeal[1, 1] == -10.0 and model.fit.appeal[0, 1] == 0.0
    xb = f[f["region"] == "XB"].set_index("day")
    tx = model.transactions()
    assert not ((tx["product"] == "lamp") & (tx["region"] == "XB")).any()
    assert list(xb.index[xb["dead_stock_units"] > 0]) == [30]
    assert xb["dead_stock_units"].sum() == 200
    # XB's holding: 0.05 - 0.01 (CN's own rate) per reserved unit-day, lamp and mug
    assert xb.loc[0, "holding_base"] == pytest.approx((2 * 200 - xb.loc[0, "units"]) * 0.04)


def test_region_priors_reach_the_view_and_bad_region_keys_are_refused() -> None:
    sc = _two_regions(fit={"mean": -0.3, "sd": 0.5, "region_mean": {"XB": -2.0}})
    view = new_model(sc, seed=1, days=5).build_view()
    assert np.array_equal(view.fit_region_mean["XA"], [-0.3, -0.3])
    assert np.array_equal(view.fit_region_mean["XB"], [-2.0, -2.0])

    def bad(d: dict) -> None:
        d["products"][0]["fit"] = {"mean": 0.0, "sd": 0.5, "region_mean": {"ZZ": 1.0}}

    with pytest.raises(ScenarioError, match=r"products\[0\]\.fit\.region_mean\.ZZ"):
        make_scenario(bad)


def test_three_factor_holds_back_a_poor_prior_before_any_view() -> None:
    """Before any sale, three_factor lists the lamp only where its prior is not poor: in XB
    (prior mean -2.5 against the mug's 0) it lists the mug alone; in XA both."""
    sc = _two_regions(fit={"mean": 0.0, "sd": 0.5})
    sc.products[1].fit.region_mean["XB"] = -2.5
    view = new_model(sc, seed=1, days=5).build_view()
    listed = ThreeFactor().decide(view, np.random.default_rng(0)).listed
    assert list(listed["XA"]) == [True, True]
    assert list(listed["XB"]) == [True, False]


def test_top_margin_lists_every_category_first() -> None:
    """Two home products have the best paper margins; with k = 2 top_margin lists the best
    home product and the apparel one (a category without a listing sells nothing)."""

    def modify(d: dict) -> None:
        mug = d["products"][0]
        d["products"].append({**mug, "id": "bowl", "unit_cost_base": 3.0})
        d["products"].append({**mug, "id": "tee", "category": "apparel", "unit_cost_base": 1.0})

    view = new_model(make_scenario(modify), seed=1, days=5).build_view()
    strategy = TopMargin(k=2)
    margin = strategy.scores(view, np.random.default_rng(0))["XA"]
    assert np.argsort(-margin)[:2].tolist() == [2, 0]  # bowl, mug: both home
    listed = strategy.decide(view, np.random.default_rng(0)).listed["XA"]
    assert listed.tolist() == [False, False, True, True]  # bowl and tee
