"""`sim.quantiles`' quantiles equal scipy.stats' (binomial, capped Poisson) bit for bit."""

from __future__ import annotations

import numpy as np
from scipy.special import pdtr
from scipy.stats import binom, poisson

from sim.quantiles import CappedPoisson, binom_ppf, poisson_ppf_capped


def test_binom_ppf_equals_scipy_on_random_and_edge_arguments() -> None:
    rng = np.random.default_rng(3)
    cases = [
        (float(u), int(n), float(p))
        for u, n, p in zip(
            rng.random(1000), rng.integers(0, 2_000_000, 1000), rng.random(1000) ** 4, strict=True
        )
    ]
    cases += [(0.0, 10, 0.5), (0.5, 0, 0.3), (0.5, 10, 0.0), (0.5, 10, 1.0), (0.999999, 5, 1e-9)]
    cases += [(1e-300, 1000, 0.01), (0.5, 10, float("nan")), (0.5, 10, 1.5)]
    for u, n, p in cases:
        want = binom.ppf(u, n, p)
        if np.isnan(want):
            continue  # int(nan) raises in both
        assert binom_ppf(u, n, p) == int(want), (u, n, p)


def test_capped_poisson_quantile_equals_scipy_on_random_uniforms() -> None:
    """Basket sizes: min(poisson.ppf(u, m), cap) for 10^6 uniforms over means and caps."""
    rng = np.random.default_rng(11)
    n = 1_000_000
    means = np.array([0.02, 0.1, 0.15, 0.2, 0.5, 1.0, 2.5, 7.0])
    mean = means[rng.integers(0, len(means), n)]
    cap = rng.integers(0, 10, n)
    u = rng.random(n)
    u[u == 0.0] = 0.5  # uniforms are in the open interval
    want = np.minimum(poisson.ppf(u, mean).astype(np.int64), cap)
    got = poisson_ppf_capped(u, mean, cap)
    assert got.dtype == np.int64
    assert np.array_equal(got, want)


def test_capped_poisson_quantile_is_exact_at_the_cdf_steps() -> None:
    """At every CDF value of the table and 8 floats either side the quantile is the smallest
    k with pdtr(k, m) >= u. scipy's ppf (an iterative inverse, pdtrik) is one short at up to
    5 floats above a step (measured: mean 7, k = 5), the only place the two differ."""
    means = [0.02, 0.1, 0.15, 0.2, 0.5, 1.0, 2.5, 7.0]
    ks = np.arange(10)
    for m in means:
        steps = pdtr(ks, m)
        u = [steps]
        for direction in (0.0, 1.0):
            x = steps.copy()
            for _ in range(8):
                x = np.nextafter(x, direction)
                u.append(x.copy())
        uu = np.concatenate(u)
        uu = uu[(uu > 0.0) & (uu < 1.0)]
        exact = np.array([int(np.argmax(steps >= x)) if (steps >= x).any() else 10 for x in uu])
        got = poisson_ppf_capped(uu, np.full(len(uu), m), np.full(len(uu), 10))
        assert np.array_equal(got, exact), m
        scipy_off = np.minimum(poisson.ppf(uu, m), 10) != got
        gap = np.abs(uu[scipy_off, None] - steps[None, :]).min(axis=1) if scipy_off.any() else []
        assert all(g <= 8 * np.spacing(1.0) for g in gap), m


def test_capped_poisson_tables_equal_the_per_batch_quantile() -> None:
    """Kinds with their own means and caps (zero, small, one above the others): the same
    values as poisson_ppf_capped on each element's mean and cap, for random uniforms and
    uniforms at and next to every CDF step."""
    means = np.array([0.0, 0.15, 0.5, 2.5, 7.0])
    caps = np.array([3, 1, 4, 9, 0])
    table = CappedPoisson(means, caps)
    rng = np.random.default_rng(4)
    steps = pdtr(np.arange(10)[None, :], means[:, None]).ravel()
    near = np.concatenate([steps, np.nextafter(steps, 0.0), np.nextafter(steps, 1.0)])
    u = np.concatenate([rng.random(200_000), near])
    u = u[(u > 0.0) & (u < 1.0)]
    kind = rng.integers(0, len(means), len(u))
    got = table.quantile(u, kind)
    assert got.dtype == np.int64
    assert np.array_equal(got, poisson_ppf_capped(u, means[kind], caps[kind]))
