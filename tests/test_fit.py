"""Product-market fit: hidden appeal, launch costs and stock commitments, delisted dead stock."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pytest
from helpers import make_scenario

from sim.contract import MarketView
from sim.kpis import ALL_REGIONS
from tests.helpers import ListThenDelist, new_model


def _world(fit: dict | None = None, launch: dict | None = None, dead_days: int | None = None):
    def modify(d: dict) -> None:
        for p in d["products"]:
            if fit is not None:
                p["fit"] = fit
        if launch is not None:
            d["firm"]["launch"] = launch
        wh = d["firm"]["warehouses"][0]
        wh["initial_units"] = 0
        if dead_days is not None:
            wh["dead_stock_days"] = dead_days
            d["firm"]["inventory_policy"] = []
        else:
            wh["initial_units"] = 5_000

    return make_scenario(modify)


def _arrays(obj: object, seen: set[int] | None = None) -> list[np.ndarray]:
    """Every numpy array and number reachable from a view (dataclasses, mappings)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, int | float):
        return [np.array([obj])]
    if hasattr(obj, "__dataclass_fields__"):
        return [a for f in fields(obj) for a in _arrays(getattr(obj, f.name), seen)]
    if isinstance(obj, dict):
        return [a for v in obj.values() for a in _arrays(v, seen)]
    return []


def test_appeal_is_hidden_from_the_view_and_common_across_variants() -> None:
    """The view shows the prior, never the drawn appeal; the draw depends only on the seed."""
    sc = _world(fit={"mean": -0.2, "sd": 0.8})
    model = new_model(sc, seed=3, days=10)
    appeal = model.fit.appeal
    assert appeal.shape == (1, 2) and np.all(appeal != -0.2)
    view = model.build_view()
    assert np.array_equal(view.fit_prior_mean, [-0.2, -0.2])
    assert np.array_equal(view.fit_prior_sd, [0.8, 0.8])
    for arr in _arrays(view):
        values = np.asarray(arr, dtype=object).ravel()
        for a in appeal.ravel():
            assert not any(isinstance(v, float) and np.isclose(v, a) for v in values)
    assert not any("appeal" in f.name for f in fields(MarketView))
    again = new_model(sc, seed=3, days=10, strategies={"pricing": _Fixed()})
    assert np.array_equal(again.fit.appeal, appeal)  # same replication, other strategies
    assert not np.array_equal(new_model(sc, seed=4, days=10).fit.appeal, appeal)


def test_appeal_moves_demand() -> None:
    """A product's appeal enters our offer's utility: a well-fitting range sells more."""
    units = []
    for mean in (-1.5, 1.0):
        f = new_model(_world(fit={"mean": mean, "sd": 0.0}), seed=5, days=60).run()
        units.append(f[f["region"] == ALL_REGIONS]["units"].sum())
    assert units[1] > 2 * units[0], units


def test_launch_cost_and_stock_commitment_are_booked() -> None:
    """Each new listing books its launch cost and buys its stock commitment into the
    warehouse serving the region, at unit cost, paid after the supplier's terms."""
    sc = _world(launch={"cost_base": 1_000.0, "stock_units": 300})
    base = _world()
    model = new_model(sc, seed=2, days=1)
    f = model.run()
    ref = new_model(base, seed=2, days=1).run()
    a, r = f[f["region"] == ALL_REGIONS].iloc[0], ref[ref["region"] == ALL_REGIONS].iloc[0]
    assert a["launches"] == 2 and r["launches"] == 2
    assert a["launch_cost_base"] == 2_000.0 and r["launch_cost_base"] == 0.0
    costs = [p.unit_cost_base for p in sc.products]
    assert np.isclose(a["purchases_base"] - r["purchases_base"], 300 * sum(costs))
    assert np.isclose(a["net_profit_base"], r["net_profit_base"] - 2_000.0 - a["holding_base"])
    assert model.firm.inventory.totals.bought_units == 2 * 5_000 + 2 * 300
    assert model.firm.inventory.units_balance() == 0
    table = model.fit.listing_table()
    assert list(table["product"]) == ["mug", "lamp"] and (table["stock_units"] == 300).all()


@dataclass
class _Fixed:
    """Pricing stand-in: the default strategy's decision is not needed (prices stay)."""

    kind: str = "pricing"
    name: str = "fixed_test"

    def decide(self, view, rng):
        from sim.contract import PricingDecision

        return PricingDecision({})


def test_a_delisted_products_stock_is_written_off_after_dead_stock_days() -> None:
    """Delisting leaves the lamp's committed stock unsold: written off dead_stock_days after
    its last sale, counted as dead stock of an unlisted product."""
    sc = _world(launch={"stock_units": 400}, dead_days=30)
    model = new_model(sc, seed=1, days=80, strategies={"selection": ListThenDelist(7)})
    f = model.run()
    a = f[f["region"] == ALL_REGIONS].set_index("day")
    table = model.fit.listing_table().set_index("product")
    assert table.loc["lamp", "delist_day"] == 7 and table.loc["mug", "delist_day"] == -1
    sold_lamp = int(table.loc["lamp", "units_review"])
    assert 0 < sold_lamp < 400
    tx = model.transactions()
    last_sale = int(tx[tx["product"] == "lamp"]["day"].max())
    assert last_sale < 7
    dead_days = a.index[a["dead_stock_unlisted_units"] > 0]
    assert list(dead_days) == [last_sale + 30]
    assert a["dead_stock_unlisted_units"].sum() == 400 - sold_lamp
    assert np.isclose(a["dead_stock_unlisted_base"].sum(), (400 - sold_lamp) * 12.0)
    assert np.isclose(a["writeoff_base"].sum(), a["dead_stock_base"].sum())
    assert model.firm.on_hand[0, 1] == 0


def _lever_world(selection: dict) -> object:
    """One region, six products in one category: two with a promising prior, four a poor
    one (the seller's research); launches cost money and fit is uncertain."""

    def modify(d: dict) -> None:
        d["horizon_days"] = 180
        d["regions"][0]["population"] = 20_000
        base = d["products"][0]
        d["products"] = [
            {**base, "id": f"p{i}", "fit": {"mean": 0.3 if i < 2 else -2.0, "sd": 0.5}}
            for i in range(6)
        ]
        d["firm"]["launch"] = {"cost_base": 3_000.0, "stock_units": 50}
        d["firm"]["warehouses"][0]["initial_units"] = 0
        d["firm"]["inventory_policy"] = [
            {"warehouse": "CN", "reorder_point": 150, "order_quantity": 300}
        ]
        d["strategies"]["selection"] = selection

    return make_scenario(modify)


@pytest.mark.slow
def test_curated_selection_beats_listing_everything_when_launches_cost_money() -> None:
    """Paired CRN over 6 replications: three_factor (k=2, prior before launch, sales after)
    and stop_loss around it earn more net profit than all_products, which pays six launches;
    the mean paired gain exceeds 3 standard errors."""
    worlds = {
        "all": _lever_world({"name": "all_products"}),
        "three_factor": _lever_world({"name": "three_factor", "params": {"k": 2}}),
        "stop_loss": _lever_world(
            {"name": "stop_loss", "params": {"inner_params": {"k": 2}, "min_views": 50}}
        ),
    }
    profit = {name: [] for name in worlds}
    for seed in range(6):
        for name, sc in worlds.items():
            f = new_model(sc, seed=np.random.SeedSequence([7, 0, seed])).run()
            profit[name].append(f[f["region"] == ALL_REGIONS]["net_profit_base"].sum())
    for name in ("three_factor", "stop_loss"):
        gain = np.array(profit[name]) - np.array(profit["all"])
        se = gain.std(ddof=1) / np.sqrt(len(gain))
        assert gain.mean() > 3 * se, (name, gain)


def test_listing_facts_follow_their_definitions() -> None:
    """listing_success: units in the review window >= the mean over replications of the
    same region, product and launch day; listing_dead_stock: units < the stock commitment."""
    import pandas as pd

    from experiments.check import facts
    from experiments.check.runs import RunStats
    from experiments.files import load_scenario

    sc = load_scenario("scenarios/default.yaml")
    units = {0: [10, 200], 1: [45, 100], 2: [50, 30]}  # rep -> units of listings a, b
    stats = [
        RunStats(
            "baseline",
            rep,
            365,
            pd.DataFrame(),
            {},
            pd.DataFrame(
                {
                    "region": ["ID", "ID"],
                    "product": ["a", "b"],
                    "launch_day": [0, 0],
                    "stock_units": [40, 40],
                    "units_review": u,
                    "complete": [True, True],
                }
            ),
        )
        for rep, u in units.items()
    ]
    ctx = facts.FactContext(sc, {"baseline": stats}, 730, 365)
    # means: a 35, b 110 -> successes: rep0 b; rep1 a; rep2 a
    assert list(facts.listing_success(ctx).values) == [0.5, 0.5, 0.5]
    assert list(facts.listing_dead_stock(ctx).values) == [0.5, 0.0, 0.5]
