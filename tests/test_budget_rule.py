"""Marketing budget rule: channel budgets follow a share of trailing revenue (sim.budget_rule)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_scenario

from experiments.acquisition import with_marketing
from sim.calendar import DAYS_PER_MONTH
from sim.errors import ScenarioError
from tests.helpers import new_model

SINGLE_BUDGET = 1500.0  # tiny.yaml's firm-level budget for XA (not under the rule)
CHANNELS = {
    "search": {
        "budget_monthly_base": 2000.0,
        "adstock_decay_daily": 0.5,
        "max_p_daily": 0.004,
        "half_saturation_daily_base": 100.0,
    },
    "social": {
        "budget_monthly_base": [1000.0] * 6 + [3000.0] * 6,
        "adstock_decay_daily": 0.8,
        "max_p_daily": 0.003,
        "half_saturation_daily_base": 200.0,
    },
}


def _scenario(days: int = 60, rule: dict | None = None):
    def modify(d: dict) -> None:
        d["horizon_days"] = days
        d["firm"]["starting_cash_base"] = 5e6  # spending never stops
        d["regions"][0]["acquisition"] = {"channels": CHANNELS}
        if rule is not None:
            d["regions"][0]["acquisition"]["budget_rule"] = rule

    return make_scenario(modify)


def _channel_spend(kpis) -> tuple[np.ndarray, np.ndarray]:
    """Region XA's daily channel spend (single budget taken off) and revenue."""
    xa = kpis[kpis.region == "XA"].sort_values("day")
    return (
        xa.marketing_base.to_numpy() - SINGLE_BUDGET / DAYS_PER_MONTH,
        xa.revenue_base.to_numpy(),
    )


def test_share_of_revenue_trace() -> None:
    """Exact trace: written budgets during the ramp, then share x trailing revenue scaled to a
    month, split by the written mix and month profile, re-set every review."""
    rule = {"kind": "share_of_revenue", "share": 0.2, "ramp_days": 6, "review_days": 7}
    spend, revenue = _channel_spend(new_model(_scenario(27, rule)).run())
    written = np.array([2000.0, 1000.0])  # January
    planned = 2000.0 + (6 * 1000.0 + 6 * 3000.0) / 12  # mean monthly total, 4000
    np.testing.assert_allclose(spend[:6], written.sum() / DAYS_PER_MONTH, rtol=1e-12)
    factor = 1.0
    for d in range(6, 27):
        if (d - 6) % 7 == 0:
            lo = max(0, d - 7)  # the first review (day 6) sees the 6 days since entry
            factor = 0.2 * revenue[lo:d].sum() * DAYS_PER_MONTH / (d - lo) / planned
        assert spend[d] == pytest.approx((written * factor / DAYS_PER_MONTH).sum(), rel=1e-9)
    assert revenue.sum() > 0 and not np.allclose(spend[6:], spend[0])


def test_floor_and_cap_bound_the_monthly_total() -> None:
    capped = {"kind": "share_of_revenue", "share": 1.0, "ramp_days": 5, "cap_monthly_base": 300.0}
    spend, _ = _channel_spend(new_model(_scenario(12, capped)).run())
    # January's written mix 2000 : 1000 of the mean monthly 4000: 3000 / 4000 of the cap
    np.testing.assert_allclose(spend[5:], 300.0 * 3000 / 4000 / DAYS_PER_MONTH, rtol=1e-9)
    floored = {"kind": "share_of_revenue", "share": 0.0, "ramp_days": 5, "floor_monthly_base": 800}
    spend, _ = _channel_spend(new_model(_scenario(12, floored)).run())
    np.testing.assert_allclose(spend[5:], 800.0 * 3000 / 4000 / DAYS_PER_MONTH, rtol=1e-9)


def test_fixed_rule_changes_nothing() -> None:
    base = new_model(_scenario(15)).run()
    fixed = new_model(_scenario(15, {"kind": "fixed", "share": 0.5, "ramp_days": 0})).run()
    assert base.equals(fixed)


def test_rule_errors_name_the_field() -> None:
    bad = {"kind": "share_of_revenue", "floor_monthly_base": 500.0, "cap_monthly_base": 100.0}
    with pytest.raises(ScenarioError, match=r"acquisition.*budget_rule.*floor_monthly_base"):
        _scenario(rule=bad)
    with pytest.raises(ScenarioError, match=r"acquisition.*budget_rule.*share"):
        _scenario(rule={"kind": "share_of_revenue", "share": 1.5})


def test_budget_multiplier_scales_the_share() -> None:
    rule = {"kind": "share_of_revenue", "share": 0.2, "floor_monthly_base": 100.0}
    sc = with_marketing(_scenario(rule=rule), 2.0)
    scaled = sc.regions[0].acquisition.budget_rule
    assert (scaled.share, scaled.floor_monthly_base) == (0.4, 200.0)
    assert (
        scaled.cap_monthly_base
        == _scenario(rule=rule).regions[0].acquisition.budget_rule.cap_monthly_base
    )
