"""``firm.launch.restock_listed_only``: the (s, Q) policy skips products listed nowhere."""

from __future__ import annotations

from typing import Any

import pytest

from experiments.check.theory import run_world, tiny_world


def _world(listed_only: bool):
    def edit(d: dict[str, Any]) -> None:
        d["firm"]["warehouses"][0]["initial_units"] = 50  # below the reorder point (100)
        d["firm"]["launch"] = {"restock_listed_only": listed_only}
        d["strategies"]["selection"] = {"name": "top_margin", "params": {"k": 1}}
        d["horizon_days"] = 20

    return tiny_world(edit)


@pytest.mark.parametrize("listed_only", [False, True])
def test_unlisted_products_are_restocked_only_by_default(listed_only: bool) -> None:
    model, _, _ = run_world(_world(listed_only), 1)
    firm = model.firm
    unlisted = ~firm.listed.any(axis=0)
    assert unlisted.sum() == 1 and firm.listed.any(axis=0).sum() == 1
    position = firm.on_hand[0] + firm.on_order[0]
    if listed_only:  # never reordered: still the 50 units bought on day 0
        assert position[unlisted][0] == 50
    else:  # reordered on day 0 like any product below its reorder point
        assert position[unlisted][0] == 50 + 300
    assert position[~unlisted][0] > 50  # the listed product is restocked either way


def _opening_world(listed_only: bool):
    def edit(d: dict[str, Any]) -> None:
        d["firm"]["warehouses"][0]["initial_units"] = 500  # above the reorder point (100)
        d["firm"]["launch"] = {
            "opening_stock_listed_only": listed_only,
            "restock_listed_only": listed_only,  # else the empty product is reordered at once
        }
        d["strategies"]["selection"] = {"name": "top_margin", "params": {"k": 1}}
        d["horizon_days"] = 5

    return tiny_world(edit)


@pytest.mark.parametrize("listed_only", [False, True])
def test_opening_stock_only_for_listed_products_when_asked(listed_only: bool) -> None:
    """``firm.launch.opening_stock_listed_only``: day 0's opening stock is bought after the
    selection lists, for the listed products only (and paid for only for them)."""
    model, _, _ = run_world(_opening_world(listed_only), 1)
    firm = model.firm
    unlisted = ~firm.listed.any(axis=0)
    assert unlisted.sum() == 1
    position = firm.on_hand[0] + firm.on_order[0]
    assert position[unlisted][0] == (0 if listed_only else 500)
    assert position[~unlisted][0] >= 400  # bought either way (a few days of sales gone)
