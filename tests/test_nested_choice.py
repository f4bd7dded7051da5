"""Seller-nested logit (``sim.nested_choice``): closed form vs a hand formula, the sampler vs
the closed form, lambda = 1 vs the multinomial logit, and the broken IIA of duplicated offers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim import keyed
from sim.choice import logit_shares
from sim.nested_choice import nest_noise, nested_logit_shares, sample_nested_choices

U = np.array([0.3, -0.5, 1.1, 0.0, 0.4])
NESTS = np.array([0, 0, 3, 3, 5])  # ours (2 offers), a rival with 2 offers, a rival with 1
U0 = 0.2


def train_formula(u: np.ndarray, nests: np.ndarray, lam: float, u0: float) -> np.ndarray:
    """Train (2009) eq. 4.2 written out term by term: P_i = e^{V_i/l} S_k^{l-1} /
    (e^{u0} + sum_m S_m^l), with S_k = sum_{j in B_k} e^{V_j/l} and i in nest B_k."""
    sums = {k: np.exp(u[nests == k] / lam).sum() for k in np.unique(nests)}
    denom = np.exp(u0) + sum(s**lam for s in sums.values())
    return np.array(
        [np.exp(u[i] / lam) * sums[k] ** (lam - 1) / denom for i, k in enumerate(nests)]
    )


@pytest.mark.parametrize("lam", [0.05, 0.3, 0.6, 1.0])
def test_closed_form_matches_train_formula(lam: float) -> None:
    assert np.allclose(nested_logit_shares(U, NESTS, lam, U0), train_formula(U, NESTS, lam, U0))


def test_closed_form_red_bus_blue_bus() -> None:
    """Car and two identical buses, no outside option: buses share their nest's half as
    lambda -> 0, and lambda = 0.5 gives the bus nest sqrt(2) / (1 + sqrt(2)) (hand-computed)."""
    u, nests = np.zeros(3), np.array([0, 1, 1])
    p = nested_logit_shares(u, nests, 0.5, -1e30)
    bus = np.sqrt(2) / (1 + np.sqrt(2))
    assert np.allclose(p, [1 - bus, bus / 2, bus / 2])
    assert np.allclose(nested_logit_shares(u, nests, 0.05, -1e30), [0.5, 0.25, 0.25], atol=0.01)
    assert np.allclose(nested_logit_shares(u, nests, 1.0, -1e30), [1 / 3] * 3)


def test_closed_form_unavailable_offers_and_rows() -> None:
    """-inf offers get 0 (a whole nest of them too); a batch of rows is computed row-wise."""
    u = np.array([[-np.inf, -np.inf, 1.1, 0.0, 0.4], [0.3, -np.inf, 1.1, 0.0, 0.4]])
    p = nested_logit_shares(u, NESTS, 0.5, U0)
    assert np.all(p[0, :2] == 0) and p[1, 1] == 0
    assert np.allclose(p[0], nested_logit_shares(u[0], NESTS, 0.5, U0))
    assert np.allclose(p[0, 2:], train_formula(U[2:], NESTS[2:], 0.5, U0))


def _sampled_shares(lam: float, n: int, seed: int, dtype=np.float32) -> np.ndarray:
    keys = keyed.occasion_keys(np.uint64(seed), np.arange(n), np.zeros(n, dtype=np.uint16))
    ids = np.r_[np.arange(len(U)), keyed.OUTSIDE_OPTION_ID]
    noise = keyed.gumbel_matrix(keys, ids, dtype)
    v = np.tile(U, (n, 1)).astype(dtype)
    choice = sample_nested_choices(v, U0, NESTS, lam, noise, nest_noise(keys, np.unique(NESTS)))
    return np.bincount(np.where(choice < 0, len(U), choice), minlength=len(U) + 1) / n


@pytest.mark.parametrize("lam", [0.3, 0.6, 1.0])
def test_sampler_matches_closed_form(lam: float) -> None:
    """200,000 keyed draws: every share (outside included) within 4 SE of the closed form."""
    n = 200_000
    p = nested_logit_shares(U, NESTS, lam, U0)
    p = np.r_[p, 1 - p.sum()]
    z = (_sampled_shares(lam, n, 7) - p) / np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(z) < 4), z


def test_lambda_one_is_the_multinomial_logit() -> None:
    """lambda = 1: the closed form equals the logit's, and the two-stage sampler draws from
    the logit distribution (4 SE at 200,000 draws)."""
    p = logit_shares(U, U0)
    assert np.allclose(nested_logit_shares(U, NESTS, 1.0, U0), p)
    n = 200_000
    p = np.r_[p, 1 - p.sum()]
    z = (_sampled_shares(1.0, n, 11) - p) / np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(z) < 4), z


def test_a_copy_of_our_offer_adds_less_than_in_the_flat_logit() -> None:
    """IIA broken the right way: adding an identical copy of our offer raises our share by
    less than the flat logit's gain, and the gain tends to 0 as lambda -> 0."""
    u, nests = np.array([0.5, 0.2, 0.1]), np.array([0, 1, 2])
    u2, nests2 = np.r_[u[0], u], np.r_[0, nests]
    gains = []
    for lam in (1.0, 0.8, 0.5, 0.2, 0.05):
        before = nested_logit_shares(u, nests, lam, 0.0)[0]
        after = nested_logit_shares(u2, nests2, lam, 0.0)[:2].sum()
        gains.append(after - before)
    flat = logit_shares(u2, 0.0)[:2].sum() - logit_shares(u, 0.0)[0]
    assert np.isclose(gains[0], flat)
    assert all(a > b for a, b in itertools.pairwise(gains)), gains
    assert 0 < gains[-1] < 0.05 * flat


def test_sampled_copy_gain_is_smaller_when_nested() -> None:
    """The sampler shows the same: a duplicate of our offer gains less at lambda = 0.3."""
    n = 100_000
    keys = keyed.occasion_keys(np.uint64(3), np.arange(n), np.zeros(n, dtype=np.uint16))
    ids = np.array([0, 1, 2, 3, keyed.OUTSIDE_OPTION_ID])

    def ours(v: np.ndarray, nests: np.ndarray, lam: float) -> float:
        noise = keyed.gumbel_matrix(keys, ids[-len(v) - 1 :], np.float64)
        choice = sample_nested_choices(
            np.tile(v, (n, 1)), 0.0, nests, lam, noise, nest_noise(keys, np.unique(nests))
        )
        return float(np.mean((choice >= 0) & (nests[np.maximum(choice, 0)] == 0)))

    one = ours(np.array([0.5, 0.2]), np.array([0, 1]), 0.3)
    two = ours(np.array([0.5, 0.5, 0.2]), np.array([0, 0, 1]), 0.3)
    p1 = nested_logit_shares(np.array([0.5, 0.2]), np.array([0, 1]), 0.3)[0]
    p2 = nested_logit_shares(np.array([0.5, 0.5, 0.2]), np.array([0, 0, 1]), 0.3)[:2].sum()
    se = np.sqrt(p2 * (1 - p2) / n)
    assert abs(one - p1) < 4 * se and abs(two - p2) < 4 * se
    flat_two = logit_shares(np.array([0.5, 0.5, 0.2]))[:2].sum()
    flat_gain = flat_two - logit_shares(np.array([0.5, 0.2]))[0]
    assert two - one < flat_gain / 2


def test_nested_best_response_reduces_to_the_logit_and_maximizes_profit() -> None:
    """lambda = 1 with no sibling offers: the logit best response; lambda = 0.5 with a sibling
    offer: the price maximizes (p - c) x the closed-form nested share on a fine grid."""
    from scipy.optimize import minimize_scalar

    from sim.competitors import logit_best_response_price
    from sim.nested_response import nested_price

    w, a, v, r = (
        np.array([0.6, 0.4]),
        np.array([0.3, 0.5]),
        np.array([3.0, 4.0]),
        np.array([2.0, 5.0]),
    )
    flat = logit_best_response_price(5.0, w, a, v, r, 1e6)
    assert np.isclose(nested_price(5.0, w, a, v, np.zeros(2), r, 1.0, 1e6), flat)
    lam, sib, rival = 0.5, 0.5, 0.2  # a sibling offer (utility 0.5), one rival nest (0.2)
    p_star = nested_price(
        5.0, w, a, v, np.exp(sib / lam) * np.ones(2), np.exp(rival) + 1.0, lam, 1e6
    )

    def profit(p: float) -> float:
        shares = [
            nested_logit_shares(np.array([vg - ag * p, sib, rival]), np.array([0, 0, 1]), lam)[0]
            for vg, ag in zip(v, a, strict=True)
        ]
        return (p - 5.0) * float(np.dot(w, shares))

    best = minimize_scalar(lambda p: -profit(p), bounds=(5.0, 20.0), method="bounded").x
    assert abs(p_star - best) < 1e-3, (p_star, best)


def test_nested_price_with_a_group_that_never_buys_at_any_price() -> None:
    """A group so price-sensitive that the offer's utility is ~-1,600 at cost (a valid
    scenario: price sensitivity 50 a USD; the fuzz corpus found it) and no sibling offers:
    the best response is the other groups' and finite; the FOC used to divide 0 by 0 there
    (brentq: 'function value is NaN')."""
    from scipy.optimize import minimize_scalar

    from sim.nested_response import nested_price

    w = np.array([0.6, 0.4])
    a = np.array([0.018, 10.0])  # per local unit: an ordinary group and one that never buys
    v = np.array([1.08, 1.48])
    lam, rival = 0.6, np.array([2.5, 1.0])  # one rival nest's exp(inclusive value)
    p_star = nested_price(95.0, w, a, v, np.zeros(2), rival + 1.0, lam, 210.0)  # + outside

    def profit(p: float) -> float:
        shares = [
            nested_logit_shares(np.array([vg - ag * p, np.log(rg)]), np.array([0, 1]), lam)[0]
            for vg, ag, rg in zip(v, a, rival, strict=True)
        ]
        return (p - 95.0) * float(np.dot(w, shares))

    best = minimize_scalar(lambda p: -profit(p), bounds=(95.0, 210.0), method="bounded").x
    assert 95.0 < p_star < 210.0
    assert abs(p_star - best) < 1e-2, (p_star, best)
