"""Operations staffing: a team that steps with the order volume (sim.staffing)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import make_scenario

from experiments.check.runs import scale_market
from sim.calendar import DAYS_PER_MONTH
from sim.errors import ScenarioError
from tests.helpers import ample_stock, new_model

STAFF = {"staff_monthly_base": 1500.0, "orders_per_staff_monthly": 40.0, "review_days": 7}


def _run(staffing: dict | None, days: int = 40):
    def modify(d: dict) -> None:
        ample_stock(d, days)
        d["firm"]["starting_cash_base"] = 5e6
        if staffing is not None:
            d["firm"]["staffing"] = staffing

    return new_model(make_scenario(modify)).run()


def test_team_cost_steps_with_the_orders() -> None:
    """Exact trace: the initial team until day 7, then every 7 days the staff the orders
    since the last review need (scaled to a month, rounded up, at least min_staff), booked
    on ALL's fixed-cost line on top of the firm's fixed costs."""
    spec = dict(STAFF, initial_staff=2, min_staff=1)
    base = _run(None)
    kpis = _run(spec)
    all_base = base[base.region == "ALL"].sort_values("day")
    all_rows = kpis[kpis.region == "ALL"].sort_values("day")
    np.testing.assert_array_equal(all_rows.orders.to_numpy(), all_base.orders.to_numpy())
    team = all_rows.fixed_base.to_numpy() - all_base.fixed_base.to_numpy()
    orders = all_rows.orders.to_numpy()
    staff, expected = 2, []
    for d in range(len(team)):
        if d > 0 and d % 7 == 0:
            monthly = orders[d - 7 : d].sum() * DAYS_PER_MONTH / 7
            staff = max(1, math.ceil(monthly / 40.0 - 1e-9))
        expected.append(staff * 1500.0 / DAYS_PER_MONTH)
    np.testing.assert_allclose(team, expected, rtol=1e-9)
    assert len(set(expected)) > 1, "the test world should change the team's size"
    # regions' rows are untouched: the team is a firm-level cost
    for rid in ("XA",):
        a = kpis[kpis.region == rid].fixed_base.to_numpy()
        b = base[base.region == rid].fixed_base.to_numpy()
        np.testing.assert_array_equal(a, b)


def test_bounds_and_slice() -> None:
    """min > max is an input error; a market slice keeps the team size (cost and orders per
    head both scaled)."""
    with pytest.raises(ScenarioError, match="min_staff"):
        make_scenario(lambda d: d["firm"].update(staffing=dict(STAFF, min_staff=3, max_staff=2)))
    data = {"regions": [], "firm": {"warehouses": [], "staffing": dict(STAFF)}}
    scale_market(data, 0.25)
    assert data["firm"]["staffing"]["staff_monthly_base"] == 375.0
    assert data["firm"]["staffing"]["orders_per_staff_monthly"] == 10.0
