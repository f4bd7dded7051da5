"""`sim.quantiles.binom_ppf` is `int(scipy.stats.binom.ppf(...))` bit for bit."""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from sim.quantiles import binom_ppf


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
