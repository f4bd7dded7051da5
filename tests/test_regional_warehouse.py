"""A regional warehouse in one region can serve a neighbour (Poland for Germany in DOMAIN.md)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from sim.scenario import local_lane
from sim.validation import parse_scenario
from strategies import create
from strategies.base import Strategy
from tests.helpers import new_model

ROOT = Path(__file__).resolve().parents[1]


def two_regions_with_hub():
    d = yaml.safe_load((ROOT / "scenarios" / "tiny.yaml").read_text())
    d["regions"].append(copy.deepcopy(d["regions"][0]))
    d["regions"][1]["id"] = "XB"
    lane = copy.deepcopy(d["lanes"][0])
    lane.update(id="cn-xb-air", destination="XB")
    d["lanes"].append(lane)
    d["firm"]["warehouses"].append(
        {"id": "HUB", "region": "XA", "replenish_from": "CN", "initial_units": 300}
    )
    d["lanes"] += [
        {
            "id": "cn-hub-sea",
            "origin": "CN",
            "destination": "XA",
            "mode": "sea",
            "carries": "stock",
            "promised_days": 20,
            "stages": [
                {
                    "name": "sea",
                    "servers": 5,
                    "service_hours": {"dist": "deterministic", "value": 400},
                }
            ],
        },
        {
            "id": "hub-xb-road",
            "origin": "HUB",
            "destination": "XB",
            "mode": "road",
            "promised_days": 3,
            "stages": [
                {
                    "name": "truck",
                    "servers": 5,
                    "service_hours": {"dist": "deterministic", "value": 20},
                }
            ],
        },
    ]
    d["firm"]["inventory_policy"].append(
        {"warehouse": "HUB", "reorder_point": 100, "order_quantity": 300}
    )
    return parse_scenario(d, "hub")


def xb_warehouse_only(on: bool) -> Strategy:
    """The ``invest`` localization with only XB's local warehouse (``on``) and nothing else."""
    return create(
        "localization",
        "invest",
        {
            "human_translation": False,
            "pay_ewallet": False,
            "pay_cod": False,
            "per_region": {"XB": {"local_warehouse": on}},
        },
    )


def test_regional_warehouse_serves_the_neighbour_faster() -> None:
    sc = two_regions_with_hub()
    assert local_lane(sc, "XB").id == "hub-xb-road"
    delivery = {}
    for on in (False, True):
        model = new_model(sc, strategies={"localization": xb_warehouse_only(on)})
        f = model.run()
        xb = f[f["region"] == "XB"]
        delivery[on] = xb["delivery_days_total"].sum() / xb["deliveries"].sum()
        if on:
            hub = model.firm.warehouse_index["HUB"]
            assert model.firm.on_order[hub].sum() + model.firm.on_hand[hub].sum() > 0
    assert delivery[True] < delivery[False] - 2.0, delivery
