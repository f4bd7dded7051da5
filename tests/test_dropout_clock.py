"""Dropout per day under delivery-driven rate changes (sim.dropout_clock)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.dropout_clock import delivery_rate_factor, per_occasion
from sim.validation import parse_scenario
from tests.helpers import new_model
from tests.test_regional_warehouse import two_regions_with_hub, xb_warehouse_only


def test_per_occasion_divides_by_the_factor_and_keeps_the_rest_exactly():
    p = np.array([0.1, 0.1, 0.3, 0.5, 0.123456789], dtype=np.float32)
    m = np.array([1.0, 2.0, 0.4, 0.4, 1.0])
    out = per_occasion(p, m)
    np.testing.assert_allclose(out[[1, 2, 3]], [0.05, 0.75, 1.0], rtol=1e-6)
    assert out[0] == p[0] and out[4] == p[4]  # m == 1: the same number, bit for bit


def test_factor_is_none_when_nothing_moves_the_rate():
    cust = np.array([True, False, True])
    assert delivery_rate_factor(None, 1.0, cust) is None
    assert delivery_rate_factor(np.ones(3, dtype=np.float16), 1.0, cust) is None
    m = delivery_rate_factor(np.array([0.4, 1.0, 1.0], dtype=np.float16), 2.0, cust)
    np.testing.assert_allclose(m, [0.8, 1.0, 2.0], rtol=1e-3)  # speed: customers only


def test_thinned_occasions_keep_the_lifetime_at_any_rate_factor():
    """Monte Carlo of the module's claim: occasions at rate m x rate, each ending the customer
    with probability min(p / m, 1), leave a survival exp(-rate p t) whatever m (p <= m)."""
    rng = np.random.default_rng(20261130)
    n, rate, p, t = 200_000, 0.01, 0.1, 365.0
    expected = np.exp(-rate * p * t)  # 0.694
    for m in (0.4, 1.0, 2.05):
        occasions = rng.poisson(m * rate * t, n)
        q = float(per_occasion(np.array([p]), np.array([m]))[0])
        alive = (rng.random(n) < (1.0 - q) ** occasions).mean()
        se = np.sqrt(expected * (1 - expected) / n)  # 0.001
        assert abs(alive - expected) < 4 * se, (m, alive, expected)


def _hub_churn(keep: bool, warehouse: bool, seed: int) -> float:
    """Customers lost per customer-year in XB (served by the hub when it is open)."""
    sc = two_regions_with_hub()
    data = sc.model_dump(mode="json", exclude_unset=True)
    data["seed"] = seed
    for region in data["regions"]:
        exp = region.setdefault("experience", {})
        exp.update(delivery_rate_elasticity=1.0, rate_keeps_dropout_per_day=keep)
    model = new_model(
        parse_scenario(data, "hub"),
        strategies={"localization": xb_warehouse_only(warehouse)},
        days=240,
    )
    frame: pd.DataFrame = model.run()
    xb = frame[frame["region"] == "XB"]
    return xb["churned_customers"].sum() / xb["customer_years"].sum()


def test_a_faster_cycle_no_longer_raises_churn():
    """Fails without the rule: the hub's x2.67 rate multiplies XB's dropout chances."""
    seeds = range(2)
    without = np.mean([_hub_churn(False, True, s) / _hub_churn(False, False, s) for s in seeds])
    keep = np.mean([_hub_churn(True, True, s) / _hub_churn(True, False, s) for s in seeds])
    assert without > 1.5, without
    assert 0.7 < keep < 1.1, keep


def test_a_faster_cycle_leaves_churn_per_customer_year_unchanged():
    """The rule keeps a customer's lifetime, so with on-time hub parcels customers lost per
    customer-year should not move (a little more with the clock that stops in transit: the
    hub's parcels travel fewer days). Old code: a consumer's acquisition occasion came at
    the non-customer rate, but its dropout was divided by the customers' speed factor (they
    were marked customers by then), so every new customer was safer at that occasion and the
    hub read 0.85 (0.78-0.89 over seeds 0-3); now 1.03 (0.98-1.06)."""
    ratios = [_hub_churn(True, True, s) / _hub_churn(True, False, s) for s in range(4)]
    assert 0.95 < float(np.mean(ratios)) < 1.12, ratios
