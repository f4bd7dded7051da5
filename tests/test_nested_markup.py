"""logit_optimal's multi-product markup under seller nests, against a numerical optimum."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from sim.nested_choice import nested_logit_shares
from strategies.nested_markup import nest_prices

ALPHA = 1.5
COST = np.array([1.0, 1.2, 0.8])
QUALITY = np.array([3.0, 2.6, 2.2])  # our three products (one nest)
RIVALS = np.array([3.2 - ALPHA * 2.0, 2.9 - ALPHA * 1.8])  # two rivals, a nest each
NESTS = np.array([0, 0, 0, 1, 2])


def _shares(p: np.ndarray, lam: float) -> np.ndarray:
    u = np.concatenate([QUALITY - ALPHA * p, RIVALS])
    return nested_logit_shares(u, NESTS, lam, 0.0)[:3]


def _profit(p: np.ndarray, lam: float) -> float:
    return float(((p - COST) * _shares(p, lam)).sum())


def _optimum(lam: float) -> np.ndarray:
    res = minimize(lambda p: -_profit(p, lam), COST + 1.0, method="BFGS", options={"gtol": 1e-9})
    assert np.abs(res.jac).max() < 1e-6, res  # a stationary point (the profit is smooth)
    return res.x


def _observed(lam: float) -> tuple[float, np.ndarray, np.ndarray]:
    """What the strategy sees at prices off the optimum: shares, prices, and the own-price
    slope a product-by-product regression estimates (share-weighted mean of -d ln s_j/d p_j,
    by central differences of the closed form)."""
    p_obs = COST + np.array([0.5, 0.9, 0.7])
    s_obs = _shares(p_obs, lam)
    h = 1e-6
    slopes = []
    for j in range(3):
        up, down = p_obs.copy(), p_obs.copy()
        up[j] += h
        down[j] -= h
        slopes.append(-(np.log(_shares(up, lam)[j]) - np.log(_shares(down, lam)[j])) / (2 * h))
    return float(np.average(slopes, weights=s_obs)), s_obs, p_obs


@pytest.mark.parametrize("lam", [0.4, 0.6, 1.0])
def test_nest_prices_reach_the_numerical_optimum_of_the_nested_profit(lam: float) -> None:
    """Tolerance: 1e-4 on each price (BFGS to a gradient under 1e-6 on a smooth profit; the
    formula's fixed point is solved to 1e-10). Old rule (each product alone, p = c + 1/(alpha_hat
    (1 - s_j))) is checked to price more than 10% of the markup too low under nests."""
    best = _optimum(lam)
    alpha_hat, s_obs, p_obs = _observed(lam)
    prices = nest_prices(COST, alpha_hat, s_obs, p_obs, np.zeros(3, dtype=int), lam)
    np.testing.assert_allclose(prices, best, atol=1e-4)
    markups = best - COST
    assert np.allclose(markups, markups[0], atol=1e-4)  # one common markup per nest
    share = _shares(best, lam).sum()
    assert markups[0] == pytest.approx(1.0 / (ALPHA * (1.0 - share)), abs=1e-4)
    old = COST + 1.0 / (alpha_hat * (1.0 - _shares(best, lam)))  # the old rule, at its best
    if lam < 1.0:  # under nests the old rule prices far too low
        assert (best - old > 0.1 * markups).all()


def test_products_not_offered_get_no_price_and_unseen_ones_the_nest_markup() -> None:
    alpha_hat, s_obs, p_obs = _observed(0.6)
    s = np.append(s_obs, np.nan)
    p = np.append(p_obs, np.nan)
    cost = np.append(COST, 2.0)
    prices = nest_prices(cost, alpha_hat, s, p, np.array([0, 0, 0, 0]), 0.6)
    assert prices[3] - 2.0 == pytest.approx(prices[0] - COST[0])
    prices = nest_prices(cost, alpha_hat, s, p, np.array([0, 0, 0, -1]), 0.6)
    assert np.isnan(prices[3])
