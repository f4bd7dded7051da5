"""Counting and ledger defects fixed in brief D (issue 12): memberships are not offers."""

from __future__ import annotations

import numpy as np

from sim.model import MarketModel
from strategies.retention import LoyaltyProgram
from tests.helpers import make_scenario, new_model


def _ample(d: dict) -> None:
    """tiny.yaml with stock that never runs out."""
    d["horizon_days"] = 200
    d["regions"][0]["population"] = 20_000
    d["regions"][0]["awareness"]["initial_share"] = 0.6
    d["firm"]["warehouses"][0]["initial_units"] = 200_000
    d["firm"]["inventory_policy"] = []


def _run_until(m: MarketModel, day: int) -> None:
    while m.day < day:
        m.step()


def test_loyalty_memberships_are_not_counted_as_offers() -> None:
    """Old code: every renewed membership was booked as an offer sent (and each member's
    purchase as an offer redeemed)."""
    m = new_model(make_scenario(_ample), seed=2)
    _run_until(m, 120)
    view = m.observer.market_view()
    decision = LoyaltyProgram(min_orders=1).decide(view, np.random.default_rng())
    members = sum(len(a.customer_ids) for a in decision.actions)
    assert members > 50
    m.decisions.apply_retention(decision)
    _run_until(m, 160)
    a = m.kpi_frame().query("region == 'ALL'")
    assert a["loyalty_members"].sum() == members
    assert a["offers_sent"].sum() == 0
    assert a["offers_redeemed"].sum() == 0
    assert m.offers.table().empty
    assert a["retention_base"].sum() > 0  # the programme still costs: fees and rebates
