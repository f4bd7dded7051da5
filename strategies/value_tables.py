"""A function of small integer columns computed once per distinct value and gathered back."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: widest value range tabulated (recency days, order counts: a few hundred at most)
MAX_SPAN = 1 << 16


def per_value(
    values: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], max_span: int = MAX_SPAN
) -> np.ndarray | None:
    """``fn(values.astype(float))`` for an integer column, with ``fn`` (elementwise) evaluated
    once per value in ``[min, max]`` and gathered: the same floats in one gather instead of
    every elementwise pass over every customer. None when ``values`` is not an integer column
    or spans more than ``max_span`` values (the caller then computes directly)."""
    v = np.asarray(values)
    if v.dtype.kind not in "iu" or v.ndim != 1 or not len(v):
        return None
    lo, hi = int(v.min()), int(v.max())
    if hi - lo >= max_span:
        return None
    table = fn(np.arange(lo, hi + 1).astype(np.float64))  # the same floats as each value's cast
    return table.take(np.subtract(v, lo, dtype=np.intp))
