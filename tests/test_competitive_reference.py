"""competitive_index prices each product against the rival offer comparable to it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

import marketsim as ms
from strategies import registry, testing
from strategies._common import category_of, competitor_stats, consumer_price
from strategies.pricing import relative_cost

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "default.yaml"


def _view():
    scenario = ms.load_scenario(DEFAULT)
    model = testing.new_model(scenario, seed=1, days=1)
    return model.build_view()


def test_relative_cost_averages_one_per_category() -> None:
    view = _view()
    r = view.regions["ID"]
    rel = relative_cost(view, r)
    cats = category_of(view)
    landed = np.asarray(r.landed_cost_base, float)
    for c in np.unique(cats):
        sel = cats == c
        assert np.isclose(rel[sel].mean(), 1.0)
        assert np.allclose(rel[sel] / rel[sel][0], landed[sel] / landed[sel][0])


def test_prices_keep_each_products_place_in_the_category() -> None:
    """On the old code every product of a category got one price (index x the median), so
    a 9.0 USD lamp and a 2.8 USD cutlery set sold alike."""
    view = _view()
    # rivals dear enough that the floor never binds
    r = view.regions["ID"]
    r = dataclasses.replace(
        r, competitor_price_local=np.asarray(r.competitor_price_local, float) * 5.0
    )
    view = dataclasses.replace(view, regions={"ID": r})
    strategy = registry.get("pricing", "competitive_index")(index=0.9, fx_pass_through=0.0)
    prices = strategy.decide(view, np.random.default_rng(0)).prices_local["ID"]
    consumer = consumer_price(r, prices)
    median = competitor_stats(view, r)["median"]
    cats = category_of(view)
    landed = np.asarray(r.landed_cost_base, float)
    for c in np.unique(cats):
        sel = cats == c
        if sel.sum() < 2 or np.isnan(median[sel]).all():
            continue
        # the category's consumer prices average 0.9 x its median rival price ...
        assert np.isclose(consumer[sel].mean(), 0.9 * median[sel][0], rtol=1e-6)
        # ... and follow the products' landed costs
        assert np.allclose(consumer[sel] / consumer[sel][0], landed[sel] / landed[sel][0])
        assert consumer[sel].max() > 1.1 * consumer[sel].min()  # not one price
