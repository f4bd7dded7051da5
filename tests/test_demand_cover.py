"""``inventory_policy[].cover_days``: reorder points that follow each product's recent sales."""

from __future__ import annotations

from typing import Any

import pytest

from experiments.check.theory import run_world, tiny_world
from experiments.replications import build_model
from sim.errors import ScenarioError
from tests.helpers import ample_stock


def _world(cover_days: float | None, window_days: int | None = None, horizon_days: int = 180):
    """tiny.yaml with 20,000 consumers (60% aware) and a (100, 300) policy that demand
    outruns: 400 units to open, a 10-day supplier lead."""

    def edit(d: dict[str, Any]) -> None:
        ample_stock(d, horizon_days)
        d["firm"]["warehouses"][0]["initial_units"] = 400
        rule: dict[str, Any] = {"warehouse": "CN", "reorder_point": 100, "order_quantity": 300}
        if cover_days is not None:
            rule["cover_days"] = cover_days
        if window_days is not None:
            rule["sales_window_days"] = window_days
        d["firm"]["inventory_policy"] = [rule]

    return tiny_world(edit)


def test_a_cover_below_the_fixed_point_changes_nothing() -> None:
    """The fixed reorder point is the floor: a cover that never reaches it leaves every KPI
    bit for bit as the fixed policy (no random draw is taken or moved by the rule)."""
    _, fixed, _ = run_world(_world(None), 3)
    model, tiny_cover, _ = run_world(_world(1e-6), 3)
    assert model.firm.demand_cover is not None and model.firm.demand_cover.rate.max() > 1
    assert fixed.equals(tiny_cover)


def test_the_rate_is_the_weighted_mean_of_the_units_sold_each_day() -> None:
    """Summed over products, the recent rates follow the day's units sold (every sale path:
    baskets, offers' occasions) by rate += (sold - rate) / window, as a hand-run recursion of
    the inventory's sold-units total."""
    window = 14
    scenario = _world(30.0, window, horizon_days=90)
    model = build_model(scenario, 5, scenario.horizon_days)
    inv, cover = model.firm.inventory, model.firm.demand_cover
    assert cover is not None
    expected, before = 0.0, 0
    while model.day < model.horizon_days:
        model.step()
        sold = inv.totals.sold_units - before
        before = inv.totals.sold_units
        expected += (sold - expected) / window
        assert cover.rate.sum() == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert before > 5_000  # the run sold, so the recursion was exercised


def test_a_product_that_sells_gets_a_higher_point_and_loses_fewer_sales() -> None:
    """Same seed, same demand draws: covering 20 or 40 days of recent sales loses fewer units
    to empty stock than the fixed (100, 300), and more cover loses fewer still."""
    lost = {}
    for cover in (None, 20.0, 40.0):
        model, _, _ = run_world(_world(cover), 3)
        lost[cover] = float(model.kpi_frame()["stockouts"].sum())
        if cover is not None:
            points = model.firm.demand_cover.reorder_points(0, model.firm.reorder_point[0])
            assert points.max() > 100  # the bestseller's point rose above the floor
    assert lost[None] > lost[20.0] > lost[40.0]
    assert lost[40.0] < 0.5 * lost[None]


def test_a_bad_cover_names_its_field() -> None:
    with pytest.raises(ScenarioError, match=r"inventory_policy.*cover_days"):
        _world(-3.0)
