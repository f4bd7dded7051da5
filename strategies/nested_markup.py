"""Multi-product logit pricing: the common markup of a firm whose products share a seller nest.

Derivation (nested logit, Train 2009 ch. 4; our products in one category form the nest ``g``
with dissimilarity ``lam``; utility ``V_j = d_j - alpha p_j``; ``s_j`` the choice share of
product ``j``, ``S = sum_j s_j`` the nest's share, ``s_j|g = s_j / S``):

* own effect ``ds_j/dp_j = -alpha s_j (1/lam - (1 - lam)/lam s_j|g - s_j)``;
* cross effect within the nest ``ds_k/dp_j = alpha s_k s_j|g (1/lam - 1 + S)``.

Summing over the nest, ``sum_k ds_k/dp_j = -alpha s_j (1 - S)`` for every ``j``. The
first-order condition of the profit ``sum_k (p_k - c_k) s_k`` with a markup ``m`` common to
the nest's products, ``s_j + m sum_k ds_k/dp_j = 0``, then holds for every ``j`` at once when

    ``m = 1 / (alpha (1 - S))``,

so a common markup is optimal and it depends on the nest's share, not on ``lam`` (flat logit,
``lam = 1``, gives the same formula with the firm's total share). A single-product rule
``1 / (alpha (1 - s_j))`` ignores that a sale lost by raising ``p_j`` partly goes to our
other products (cannibalisation) and prices too low. ``lam`` enters twice all the same:

* the price slope estimated product by product (own-price variation) is the *within-nest*
  one, ``alpha_hat = alpha x (1/lam - (1 - lam)/lam s_j|g - s_j)`` (about ``alpha / lam``):
  :func:`utility_alpha` recovers ``alpha``;
* moving the products from their observed prices to ``c_j + m`` moves the nest's share
  through its inclusive value: ``S/(1 - S) = S0/(1 - S0) x (sum_j s_j|g exp(-alpha
  (c_j + m - p_j) / lam))^lam`` (rivals' utilities held fixed): :func:`common_markup`.
"""

from __future__ import annotations

import numpy as np

from sim.exact_dot import dot

#: the largest nest share used (a nest holding the whole market has no finite markup)
MAX_SHARE = 0.99


def slope_factor(s: np.ndarray, lam: float) -> np.ndarray:
    """``-d ln s_j / d p_j / alpha`` per product of one nest: ``1/lam - (1 - lam)/lam s_j|g
    - s_j`` (``s`` the products' choice shares, all in the nest)."""
    s = np.asarray(s, dtype=float)
    total = float(s.sum())
    within = s / total if total > 0 else np.zeros_like(s)
    return 1.0 / lam - (1.0 - lam) / lam * within - s


def utility_alpha(alpha_hat: float, s: np.ndarray, lam: float) -> float:
    """The utility's price coefficient behind an own-price slope ``alpha_hat`` estimated
    product by product in one nest: ``alpha_hat`` over :func:`slope_factor` averaged with
    weights ``s`` (the estimate weights cells by sales)."""
    s = np.asarray(s, dtype=float)
    factor = slope_factor(s, lam)
    mean = float(np.average(factor, weights=s)) if s.sum() > 0 else 1.0 / lam
    return alpha_hat / mean


def nest_share(
    m: float, alpha: float, s: np.ndarray, cost: np.ndarray, p_obs: np.ndarray, lam: float
) -> float:
    """The nest's share when its products are priced ``cost + m`` (shares ``s`` observed at
    prices ``p_obs``; rivals and the outside option unchanged)."""
    total = min(float(s.sum()), MAX_SHARE)
    within = s / float(s.sum())
    shift = np.clip(-alpha * (cost + m - p_obs) / lam, -50.0, 50.0)
    odds = total / (1.0 - total) * float(dot(within, np.exp(shift))) ** lam
    return min(odds / (1.0 + odds), MAX_SHARE)


def common_markup(
    alpha: float, s: np.ndarray, cost: np.ndarray, p_obs: np.ndarray, lam: float
) -> float:
    """The optimal common markup ``m = 1 / (alpha (1 - S(m)))`` of one nest (damped fixed
    point; ``1 / alpha`` when no product of the nest has been observed)."""
    s = np.asarray(s, dtype=float)
    if not s.sum() > 0:
        return 1.0 / alpha
    m = 1.0 / alpha
    for _ in range(200):
        new = 1.0 / (alpha * (1.0 - nest_share(m, alpha, s, cost, p_obs, lam)))
        if abs(new - m) < 1e-10 * max(1.0, abs(m)):
            return new
        m = 0.5 * m + 0.5 * new
    return m


def nest_prices(
    cost: np.ndarray,
    alpha_hat: float,
    s_obs: np.ndarray,
    p_obs: np.ndarray,
    nests: np.ndarray,
    lam: float,
) -> np.ndarray:
    """Each product's price ``c_j + m_g`` with its nest's common markup (``nests``: one id per
    product, -1 for products not offered: NaN). ``s_obs``/``p_obs``: observed share and price
    (NaN when never observed: such a product takes its nest's markup, adding no share)."""
    cost = np.asarray(cost, dtype=float)
    out = np.full(len(cost), np.nan)
    seen = np.isfinite(s_obs) & np.isfinite(p_obs)
    for g in np.unique(nests[nests >= 0]):
        members = np.flatnonzero(nests == g)
        obs = members[seen[members]]
        s = np.clip(np.asarray(s_obs, dtype=float)[obs], 0.0, MAX_SHARE)
        alpha = utility_alpha(alpha_hat, s, lam) if s.sum() > 0 else alpha_hat * lam
        m = common_markup(alpha, s, cost[obs], np.asarray(p_obs, dtype=float)[obs], lam)
        out[members] = cost[members] + m
    return out
