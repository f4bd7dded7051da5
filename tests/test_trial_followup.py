"""Trial-pack follow-up (sim.trial_pack): the coupon that reaches a trial buyer when the pack
runs out brings second orders, and costs money per contact and per redemption."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.model import MarketModel
from tests.helpers import make_scenario, new_model


def _world(followup: dict | None) -> MarketModel:
    def edit(d: dict) -> None:
        d["horizon_days"] = 200
        d["regions"][0]["population"] = 20_000
        d["regions"][0]["awareness"]["initial_share"] = 0.6
        d["firm"]["warehouses"][0]["initial_units"] = 200_000
        d["firm"]["inventory_policy"] = []
        d["firm"]["trial_pack"] = {"price_base": 9.9}
        if followup is not None:
            d["firm"]["trial_pack"]["followup"] = followup

    return new_model(make_scenario(edit), seed=3)


def _second_order_share(m: MarketModel, window: int = 90) -> float:
    """Share of first-time buyers (first order >= window days before the horizon) who
    ordered again within ``window`` days."""
    tx = m.transactions().sort_values(["customer_id", "day"], kind="stable")
    first = tx.groupby("customer_id")["day"].min()
    second = tx[tx["day"] > tx["customer_id"].map(first)].groupby("customer_id")["day"].min()
    cohort = first[first <= m.horizon_days - window]
    again = (second.reindex(cohort.index) - cohort) <= window
    return float(again.mean())


def test_followup_coupon_brings_second_orders_and_is_costed() -> None:
    """Old code: the schema refused ``trial_pack.followup``. With every contacted buyer
    responding, the 90-day second-order share rises well above the pack alone's, every
    trial buyer still without a second order 21 days later is contacted (cost per contact),
    and each redeemed coupon is booked (cost per redemption)."""
    spec = {
        "after_days": 21,
        "duration_days": 30,
        "response_probability": 1.0,
        "cost_per_contact_base": 0.2,
        "cost_per_redemption_base": 3.0,
    }
    with_follow = _world(spec)
    k = with_follow.run()
    without = _world(None)
    without.run()
    base, follow = _second_order_share(without), _second_order_share(with_follow)
    assert follow > base + 0.2, (base, follow)
    offers: pd.DataFrame = with_follow.offers.table()
    row = offers[offers["action"] == "trial_followup"].iloc[0]
    assert row["contacted"] > 0 and row["won_back"] > 0.5 * (row["won_back"] + row["not_won_back"])
    assert math.isclose(row["contact_cost_base"], 0.2 * row["contacted"])
    assert math.isclose(row["redemption_cost_base"], 3.0 * row["won_back"])
    a = k[k.region == "ALL"]
    assert math.isclose(a["offers_sent"].sum(), row["contacted"])
    expected = 0.2 * row["contacted"] + 3.0 * row["won_back"]
    assert math.isclose(a["retention_base"].sum(), expected, rel_tol=1e-9)


def test_followup_with_no_response_changes_nothing() -> None:
    """A follow-up nobody answers (response 0, the default) runs bit-identically."""
    a = _world({"response_probability": 0.0}).run()
    b = _world(None).run()
    pd.testing.assert_frame_equal(a, b)
    assert np.isfinite(a["net_profit_base"]).all()
