"""``firm.warehouses[].initial_units_by_product``: opening stock per product."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from experiments.check.runs import scale_market
from experiments.check.theory import TINY_PATH, run_world, tiny_world


def _world(listed_only: bool):
    def edit(d: dict[str, Any]) -> None:
        wh = d["firm"]["warehouses"][0]
        wh["initial_units"] = 500  # every product not named below (reorder point 100)
        wh["initial_units_by_product"] = {"lamp": 150}  # units of lamp on day 0
        d["firm"]["launch"] = {
            "opening_stock_listed_only": listed_only,
            "restock_listed_only": listed_only,
        }
        d["horizon_days"] = 1

    return tiny_world(edit)


@pytest.mark.parametrize("listed_only", [False, True])
def test_named_products_get_their_own_opening_stock(listed_only: bool) -> None:
    """The named product opens with its own units, the others with ``initial_units``; paid
    for at those units (fails on the old code: the field did not exist)."""
    sc = _world(listed_only)
    model, _, _ = run_world(sc, 1)
    firm = model.firm
    ids = [p.id for p in sc.products]
    mug, lamp = ids.index("mug"), ids.index("lamp")
    assert firm.listed.any(axis=0).all()  # tiny's default selection lists both
    position = firm.on_hand[0] + firm.on_order[0]
    assert position[lamp] <= 150 < position[mug]
    cost = {p.id: p.unit_cost_base for p in sc.products}
    purchases = model.kpi_frame().query("region == 'ALL'")["purchases_base"].sum()
    assert purchases == pytest.approx(500 * cost["mug"] + 150 * cost["lamp"])


def test_market_slice_scales_the_per_product_opening_stock() -> None:
    """The check's market slice scales named products' opening stock as ``initial_units``."""
    data = yaml.safe_load(TINY_PATH.read_text())
    data["firm"]["warehouses"][0].update(initial_units=2000, initial_units_by_product={"lamp": 300})
    scale_market(data, 0.1)
    wh = data["firm"]["warehouses"][0]
    assert (wh["initial_units"], wh["initial_units_by_product"]) == (200, {"lamp": 30})
