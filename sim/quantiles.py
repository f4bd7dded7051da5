"""Binomial quantiles for one draw a day, without scipy.stats' per-call argument handling."""

from __future__ import annotations

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
