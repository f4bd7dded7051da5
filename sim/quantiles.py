"""Binomial and capped Poisson quantiles without scipy.stats' per-call argument handling."""

from __future__ import annotations

import numpy as np
from scipy.special import pdtr
from scipy.stats import binom

try:  # the ufunc behind scipy.stats.binom.ppf (scipy >= 1.10)
    from scipy.special._ufuncs import _binom_ppf
except ImportError:  # pragma: no cover - another scipy: the public (slower) path
    _binom_ppf = None


def binom_ppf(u: float, n: int, p: float) -> int:
    """``int(scipy.stats.binom.ppf(u, n, p))`` for one uniform ``u``, bit for bit.

    ``binom.ppf`` validates and broadcasts its arguments on every call (about 0.15 ms); for
    ``0 < u < 1``, a whole ``n >= 0`` and ``0 <= p <= 1`` it returns the ufunc's value, which
    is called here directly; every other case goes through ``binom.ppf`` itself.
    """
    if _binom_ppf is not None and 0.0 < u < 1.0 and n >= 0 and 0.0 <= p <= 1.0:
        return int(_binom_ppf(u, n, p))
    return int(binom.ppf(u, n, p))


def poisson_ppf_capped(u: np.ndarray, mean: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """``min(scipy.stats.poisson.ppf(u, mean), cap)`` (int64) for uniforms ``0 < u < 1``.

    The quantile is the smallest k with ``pdtr(k, mean) >= u``, so below the cap it is the
    number of k in ``0 .. cap - 1`` whose CDF (scipy's own ``pdtr``, as ``poisson.ppf``
    checks its answer with) is below ``u``: one small CDF table per distinct mean instead of
    ``poisson.ppf``'s iterative inverse and argument handling (baskets: a few means, caps of
    a few units). Equal to scipy's value except within a few floats above a CDF step, where
    scipy's inverse (``pdtrik``) is one short and this one is exact (tests/test_quantiles.py:
    equal on 10^6 uniforms; within 5 floats at the steps).
    """
    u = np.asarray(u, dtype=float)
    mean = np.asarray(mean, dtype=float)
    cap = np.asarray(cap, dtype=np.int64)
    out = np.zeros(u.shape, dtype=np.int64)
    top = int(cap.max()) if cap.size else 0
    if top <= 0:
        return out
    ks = np.arange(top)
    for m in np.unique(mean):
        at = mean == m
        cdf = pdtr(ks, m)  # CDF at 0 .. top - 1
        out[at] = np.searchsorted(cdf, u[at], side="left")  # how many CDF values are < u
    return np.minimum(out, cap)


class CappedPoisson:
    """:func:`poisson_ppf_capped` for a few fixed (mean, cap) kinds (a region's segments):
    each kind's CDF table is computed once, so a draw is one gather and one comparison.

    Counting the CDF values below ``u`` over ``0 .. top - 1`` with ``top`` the widest cap
    (not the batch's) changes no capped value: the CDF rises, so once a value is ``>= u``
    every later one is; a count under the batch's top is the same over the longer table, and
    a count that reaches it is cut to the cap either way."""

    def __init__(self, mean: np.ndarray, cap: np.ndarray) -> None:
        self.mean = np.asarray(mean, dtype=float)
        self.cap = np.asarray(cap, dtype=np.int64)
        top = max(int(self.cap.max()) if self.cap.size else 0, 0)
        self.cdf = pdtr(np.arange(top)[None, :], self.mean[:, None])  # (kinds, top)

    def quantile(self, u: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """``poisson_ppf_capped(u, mean[kind], cap[kind])`` (int64)."""
        below = self.cdf.take(kind, axis=0) < np.asarray(u, dtype=float)[:, None]
        out = below.sum(axis=1, dtype=np.int64)
        return np.minimum(out, self.cap.take(kind))
