"""The bucket table's positions equal ``searchsorted(side="right")`` on the seasonal axis."""

from __future__ import annotations

import numpy as np
import pytest

from sim.day_lookup import PositionLookup


def _axes() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    months = np.repeat(np.arange(12), 31)[:365]
    shipped = np.array([0.9, 0.8, 0.9, 1.0, 1.0, 0.9, 0.9, 1.0, 1.0, 1.1, 1.5, 1.4])[months]
    return [
        np.concatenate([[0.0], np.cumsum(shipped)]),
        np.concatenate([[0.0], np.cumsum(np.ones(730))]),  # no seasonality, two years
        np.concatenate([[0.0], np.cumsum(rng.uniform(0.05, 5.0, 400))]),  # uneven steps
    ]


def _taus(c: np.ndarray) -> np.ndarray:
    """Random points, every step and its neighbouring floats, cell starts, far and inf."""
    rng = np.random.default_rng(11)
    width = np.diff(c).min() / 2
    starts = c[0] + np.arange(int((c[-1] - c[0]) / width) + 6) * width
    return np.concatenate(
        [
            rng.uniform(c[0], c[-1] * 1.2, 200_000),
            c,
            np.nextafter(c, np.inf),
            np.nextafter(c[1:], -np.inf),
            starts,
            np.nextafter(starts[1:], -np.inf),
            [c[-1] * 10, 1e30, 1e300, np.inf, np.nan],
        ]
    )


@pytest.mark.parametrize("axis", range(3))
def test_positions_equal_the_search(axis: int) -> None:
    c = _axes()[axis]
    lookup = PositionLookup(c)
    assert lookup._lo is not None  # the table is used, not the fallback
    tau = _taus(c)
    assert np.array_equal(lookup(tau), c.searchsorted(tau, side="right"))
    # float32 operational times, as the calendar stores them
    t32 = tau[np.isfinite(tau) & (tau < 1e30)].astype(np.float32)
    assert np.array_equal(lookup(t32), c.searchsorted(t32, side="right"))


def test_a_near_zero_season_falls_back_to_the_search() -> None:
    c = np.concatenate([[0.0], np.cumsum(np.r_[np.full(100, 1.0), np.full(100, 1e-9)])])
    lookup = PositionLookup(c)
    assert lookup._lo is None
    tau = _taus(np.concatenate([[0.0], np.cumsum(np.ones(5))]))
    assert np.array_equal(lookup(tau), c.searchsorted(tau, side="right"))
