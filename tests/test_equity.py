"""Customer equity at the horizon (``sim.equity``) and the planner KPIs against theory."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from experiments.simulate import simulate
from sim.bgnbd import BgNbdParams, conditional_expected_purchases
from sim.equity import discounted_purchase_weights, expected_purchases
from sim.errors import ScenarioError
from sim.kpis import HORIZON_KPIS, KPI_BY_NAME
from tests.helpers import make_scenario

N_MONOPOLY = 100_000


def _monopoly(data: dict) -> None:
    """An unperturbed BG/NBD population: a monopolist with a launch cohort, everyone aware,
    nobody walks away, no lateness effect, unlimited stock, no retention."""
    region = data["regions"][0]
    region["population"] = N_MONOPOLY
    region["awareness"]["initial_share"] = 1.0
    region["repeat"] = {"r": 0.8, "alpha_days": 50.0, "a": 1.5, "b": 6.0, "launch_cohort": True}
    region["choice"]["outside_utility"] = -50.0
    region["fx"]["daily_volatility"] = 0.0
    region["service"] = {"dissatisfaction_dropout_uplift": 0.0}
    data["competitors"] = []
    data["products"] = data["products"][:1]
    data["firm"]["warehouses"][0]["initial_units"] = 10_000_000
    data["horizon_days"] = 730
    data["valuation"] = {"equity_years": 1, "discount_rate_annual": 0.0}


def test_expected_purchases_match_a_further_simulated_year() -> None:
    """E[purchases in the next year | x, t_x, T] summed over 100,000 customers (BG/NBD, every
    occasion buys from us) equals the purchases the same population makes in year two of
    the same run within 3%; the test also checks that 3% is more than four standard errors
    of the realised total (so a pass is not luck and a 3% bias could not hide in noise)."""
    sc = make_scenario(_monopoly)
    one = simulate(sc, days=365)
    two = simulate(sc, days=730)
    year_one = two.kpis[two.kpis["day"] < 365].reset_index(drop=True)
    pd.testing.assert_series_equal(year_one["orders"], one.kpis["orders"])  # same population
    predicted = one.totals["XA"]["expected_purchases"]
    assert one.totals["XA"]["customers"] == N_MONOPOLY  # everyone bought on day 0
    tx = two.model.transactions()
    year_two = tx[tx["day"] >= 365].groupby("customer_id").size()
    counts = year_two.reindex(tx["customer_id"].unique(), fill_value=0).to_numpy(dtype=float)
    realised = counts.sum()
    standard_error = math.sqrt(len(counts) * counts.var(ddof=1))
    assert 0.03 * realised > 4 * standard_error
    assert abs(predicted - realised) / realised < 0.03, (predicted, realised, standard_error)


def test_equity_is_discounted_purchases_times_contribution() -> None:
    """Year buckets discounted at mid-year; equity = discounted purchases x contribution."""
    params = BgNbdParams(0.8, 50.0, 1.5, 6.0)
    x, t_x, big_t = np.array([0.0, 2.0]), np.array([0.0, 40.0]), np.array([100.0, 100.0])
    total, discounted = expected_purchases(params, 1.0, x, t_x, big_t, 2, 0.1)
    y1, y2 = (
        conditional_expected_purchases(params, t, x, t_x, big_t).sum() for t in (365.0, 730.0)
    )
    assert total == pytest.approx(y2)
    assert discounted == pytest.approx(y1 / 1.1**0.5 + (y2 - y1) / 1.1**1.5)
    assert discounted_purchase_weights(2, 0.0).tolist() == [1.0, 1.0]
    # thinning by a share of wallet s scales the gamma rate: alpha / s
    half = expected_purchases(params, 0.5, x, t_x, big_t, 1, 0.0)[0]
    thinned = BgNbdParams(0.8, 100.0, 1.5, 6.0)
    direct = conditional_expected_purchases(thinned, 365.0, x, t_x, big_t).sum()
    assert half == pytest.approx(direct)
    assert expected_purchases(params, 1.0, x, t_x, big_t, 0, 0.1) == (0.0, 0.0)


def test_horizon_kpis_only_on_the_last_day_and_consistent() -> None:
    """Horizon KPIs are NaN before the last day; on it, profit plus equity is the run's net
    profit plus customer equity, CLV is (realised contribution + equity) per customer."""
    run = simulate(make_scenario(), days=60)
    k = run.kpis
    before = k[k["day"] < 59]
    assert before[list(HORIZON_KPIS)].isna().all().all()
    for region, t in run.totals.items():
        profit = k.loc[k["region"] == region, "net_profit_base"].sum()
        assert t["profit_plus_equity_base"] == pytest.approx(profit + t["customer_equity_base"])
        assert math.isfinite(t["customer_equity_base"])
        assert np.isnan(t["repurchase_rate"])  # nobody's first order is 365 days old
    assert run.totals["ALL"]["customer_equity_base"] == pytest.approx(
        run.totals["XA"]["customer_equity_base"]
    )
    assert KPI_BY_NAME["profit_plus_equity_base"].direction == "maximize"


def test_repurchase_rate_and_annual_churn() -> None:
    """Repurchase rate with a 30-day window: second orders within 30 days among customers
    whose first order is at least 30 days before the horizon, from the transaction log;
    annual churn = churned customers / customer-years at risk."""
    sc = make_scenario(lambda d: d.update(valuation={"repurchase_window_days": 30}))
    run = simulate(sc, days=60)
    tx = run.model.transactions().sort_values(["customer_id", "day"], kind="stable")
    first = tx.groupby("customer_id")["day"].min()
    second = tx.groupby("customer_id")["day"].nth(1).groupby(tx["customer_id"]).first()
    eligible = first[first <= 60 - 30]
    gap = second.reindex(eligible.index) - eligible
    expected = float((gap <= 30).sum() / len(eligible))
    assert run.totals["XA"]["repurchase_rate"] == pytest.approx(expected)
    t = run.totals["XA"]
    assert t["churn_rate_annual"] == pytest.approx(t["churned_customers"] / t["customer_years"])


def test_a_bad_valuation_block_names_the_field() -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(lambda d: d.update(valuation={"equity_years": 11, "discount": 0.1}))
    text = "\n".join(info.value.lines())
    assert "valuation.equity_years" in text and "valuation.discount" in text


def test_quadrature_stays_finite_and_exact_for_heavy_buyers() -> None:
    """A customer with 2,000 repeat purchases puts the dropout posterior at Beta(a, b + 2000),
    where Gauss-Jacobi weights overflow; the large-b branch (Gamma limit) matches the closed
    form (a > 1) to 1e-4 relative."""
    import numpy as np

    from sim.bgnbd import BgNbdParams, conditional_expected_purchases

    params = BgNbdParams(r=0.8, alpha=20.0, a=1.5, b=5.0)
    x = np.array([2000.0, 500.0, 3.0])
    t_x = np.array([700.0, 650.0, 100.0])
    big_t = np.array([730.0, 730.0, 300.0])
    closed = conditional_expected_purchases(params, 365.0, x, t_x, big_t, method="closed_form")
    quad = conditional_expected_purchases(params, 365.0, x, t_x, big_t, method="quadrature")
    assert np.isfinite(quad).all()
    assert np.allclose(quad, closed, rtol=1e-4)
