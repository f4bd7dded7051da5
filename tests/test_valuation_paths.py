"""The horizon valuation's fast paths (whole-number row order, equal rows) give the values of
the general ones."""

from __future__ import annotations

import numpy as np
from helpers import whole_day_histories

from sim.bgnbd import _unique_inverse, distinct_rows
from sim.equity import _distinct_histories, _whole_rows_order


def test_whole_number_histories_sort_as_lexsort_does() -> None:
    x, t_x, big_t = whole_day_histories(130_000)  # many repeated histories
    stacked = np.column_stack([x, t_x, big_t])
    assert np.array_equal(_whole_rows_order(stacked), np.lexsort((big_t, t_x, x)))
    (ux, ut, ub), weight = _distinct_histories(x, t_x, big_t)
    (gx, gt, gb), index = distinct_rows(x, t_x, big_t)
    assert np.array_equal(ux, gx) and np.array_equal(ut, gt) and np.array_equal(ub, gb)
    assert np.array_equal(weight, np.bincount(index).astype(float))
    assert _whole_rows_order(np.array([[0.0, -1.0, 3.0], [1.0, 2.0, 3.0]])) is None
    assert _whole_rows_order(np.array([[2.0**30, 2.0**20, 2.0**20]])) is None


def test_equal_rows_unique_as_numpy_has_it() -> None:
    """The quadrature's dropout parameters, one row per horizon (equal rows): unique values
    and inverse as ``np.unique`` gives them; other shapes go to ``np.unique`` itself."""
    x, _, _ = whole_day_histories(8192)
    for b in (np.broadcast_to(8.0 + x, (3, len(x))) + 0.0, 8.0 + x, np.vstack([x, x + 1.0])):
        unique_b, inverse = np.unique(b, return_inverse=True)
        got_b, got_inverse = _unique_inverse(b)
        assert np.array_equal(got_b, unique_b) and np.array_equal(got_inverse, inverse.ravel())
