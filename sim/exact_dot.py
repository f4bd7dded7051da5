"""Dot products without BLAS, so that a run gives the same bits whatever the CPU.

OpenBLAS picks its kernel by CPU when it loads (Haswell, SkylakeX with AVX-512, ...), and each
kernel sums a dot product in its own order: the customer-equity KPI of one run differed in
its last digit between kernels (stop 30: ``OPENBLAS_CORETYPE=Prescott`` against Haswell on
the tiny scenario), enough to break the golden tables recorded on another machine. numpy's
``einsum`` is no way out: its sum-of-products loops are dispatched by CPU too. An elementwise
product (correctly rounded everywhere) summed by numpy's pairwise reduction, whose order is
fixed by its code, gives one answer (``tests/test_exact_dot.py``).
"""

from __future__ import annotations

import numpy as np


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for a vector ``b`` (``a``'s last axis against it) in a fixed summation order."""
    return np.multiply(a, b).sum(axis=-1)
