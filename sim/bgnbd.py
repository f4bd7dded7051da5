"""BG/NBD maths (Fader, Hardie & Lee 2005): parameters, P(alive), E[Y(t) | x, t_x, T], E[X(t)].

The one home of these formulas: the simulator values customers at the horizon with them
(``sim.equity``) and the calibration workflow (``experiments.calibration.bgnbd``) fits and
checks against them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, hyp2f1, roots_genlaguerre, roots_jacobi

from sim.exact_dot import dot

#: How an expectation is computed: closed form (needs ``a > 1``) or quadrature (any ``a``).
Method = Literal["closed_form", "quadrature"]


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters.

    Attributes:
        r: Shape of the gamma distribution of purchase rates across customers.
        alpha: Scale of that gamma distribution (rate parameter), in the summary's time unit:
            a customer's purchase rate has mean ``r / alpha`` purchases per unit.
        a: First shape parameter of the beta distribution of dropout probabilities.
        b: Second shape parameter of that beta distribution.
    """

    r: float
    alpha: float
    a: float
    b: float

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "a", "b"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"BG/NBD parameter {name} must be finite and > 0, got {value!r}")

    def as_array(self) -> NDArray[np.float64]:
        """Return ``[r, alpha, a, b]`` as a float array."""
        return np.array([self.r, self.alpha, self.a, self.b], dtype=float)


def customer_arrays(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Check a customer summary and return it as flat float arrays ``(x, t_x, T)``.

    Args:
        frequency: Repeat purchases per customer (``x``), whole numbers >= 0.
        recency: Time of last minus first purchase (``t_x``), with ``0 <= t_x <= T``.
        T: Observation time since first purchase.

    Raises:
        ValueError: On different lengths, non-finite values or inconsistent values.
    """
    x = np.asarray(frequency, dtype=float).ravel()
    tx = np.asarray(recency, dtype=float).ravel()
    big_t = np.asarray(T, dtype=float).ravel()
    if not (x.shape == tx.shape == big_t.shape):
        raise ValueError(
            f"frequency, recency and T must have the same length, got {x.size}, {tx.size}, "
            f"{big_t.size}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(tx)) and np.all(np.isfinite(big_t))):
        raise ValueError("frequency, recency and T must be finite")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative whole number of repeat purchases")
    if np.any(tx < 0) or np.any(tx > big_t * (1 + 1e-12) + 1e-12):
        raise ValueError("recency must satisfy 0 <= recency <= T for every customer")
    return x, tx, big_t


_QUADRATURE_NODES = 48


#: above this Beta ``b`` the Jacobi weights overflow (scipy computes 2^(a+b+1)); the Beta is
#: then concentrated near 0 and Beta(a, b) is Gamma(a, rate b) to O(1/b)
_LARGE_B = 400.0


@lru_cache(maxsize=1024)
def _beta_nodes(a: float, b: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Quadrature nodes in p and normalised weights for an expectation over p ~ Beta(a, b):
    Gauss-Jacobi, or generalised Gauss-Laguerre (p = z / b) when ``b`` is large (cached:
    a valuation asks for the same few ``(a, b)`` many times; the arrays are read-only)."""
    if b > _LARGE_B:
        z, weights = roots_genlaguerre(_QUADRATURE_NODES, a - 1.0)
        p = np.minimum(z / b, 1.0)
    else:
        nodes, weights = roots_jacobi(_QUADRATURE_NODES, b - 1.0, a - 1.0)
        p = (1.0 + nodes) / 2.0
    weights = weights / weights.sum()
    p.setflags(write=False)
    weights.setflags(write=False)
    return p, weights


def _mean_count_quadrature(
    r: NDArray[np.float64],
    alpha: NDArray[np.float64],
    a: float,
    b: NDArray[np.float64],
    t: NDArray[np.float64],
) -> NDArray[np.float64]:
    """E[(1 - (alpha / (alpha + p t))^r) / p] for p ~ Beta(a, b), by Gauss-Jacobi quadrature.

    This is the expected number of purchases in ``t`` for a customer alive now whose rate is
    Gamma(r, alpha) and dropout Beta(a, b); valid for every a > 0. The integrand is
    evaluated once per distinct ``(r, alpha, b, t)`` (customers share histories and horizons)
    and the weighted sums are taken over every row, so each value is bit-identical to
    integrating row by row (a BLAS dot product can round differently at a matrix's tail).
    """
    out = np.empty(r.shape)
    unique_b, inverse = _unique_inverse(b)
    for k, b_value in enumerate(unique_b):
        p, weights = _beta_nodes(a, float(b_value))
        sel = inverse.reshape(r.shape) == k
        (rr, aa, tt), back = distinct_rows(r[sel], alpha[sel], t[sel])
        g = -np.expm1(-rr[:, None] * np.log1p(p[None, :] * tt[:, None] / aa[:, None])) / p[None, :]
        out[sel] = dot(g, weights)[back]  # each distinct row once; no BLAS (sim.exact_dot)
    return out


def _unique_inverse(b: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray]:
    """``np.unique(b, return_inverse=True)`` (inverse flat); a matrix of equal rows (one
    customer per column, one horizon per row) from its first row's, tiled."""
    if b.ndim == 2 and len(b) > 1 and bool((b == b[:1]).all()):
        unique_b, inverse = np.unique(b[0], return_inverse=True)
        return unique_b, np.tile(inverse.ravel(), len(b))
    unique_b, inverse = np.unique(b, return_inverse=True)
    return unique_b, inverse.ravel()


def distinct_rows(
    *columns: NDArray[np.float64], order: NDArray | None = None
) -> tuple[list[NDArray[np.float64]], NDArray]:
    """The distinct rows of equal-length columns, in lexicographic order (first column
    first), and each row's index among them (``columns[k] == distinct[k][index]``).
    ``order``: the rows' stable lexicographic order when the caller has it (the permutation
    ``np.lexsort`` of the reversed columns gives)."""
    if order is None:
        order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        new[1:] = np.logical_or.reduce([c[1:] != c[:-1] for c in ordered])
    index = np.empty(len(order), dtype=np.int64)
    index[order] = np.cumsum(new) - 1
    return [c[new] for c in ordered], index


def _log_odds_dead(
    params: BgNbdParams, x: NDArray[np.float64], tx: NDArray[np.float64], big_t: NDArray[np.float64]
) -> NDArray[np.float64]:
    r, alpha, a, b = params.as_array()
    repeat = x > 0
    b_x_1 = np.where(repeat, b + x - 1.0, 1.0)
    value = np.log(a) - np.log(b_x_1) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
    return np.where(repeat, value, -np.inf)


def probability_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """P(customer still active at T | x, t_x, T) under the BG/NBD model.

    Args:
        params: Model parameters.
        frequency: Repeat purchases per customer.
        recency: Time of last minus first purchase.
        T: Observation time since first purchase.

    Returns:
        One probability per customer.
    """
    x, tx, big_t = customer_arrays(frequency, recency, T)
    return expit(-_log_odds_dead(params, x, tx, big_t))


def conditional_expected_purchases(
    params: BgNbdParams,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    method: Method = "closed_form",
) -> NDArray[np.float64]:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` units (paper eq. 10).

    The one home of this expectation (holdout checks and customer equity use it). Vectorised:
    pass one customer or arrays of customers, and one horizon or an array of horizons that
    broadcasts against them. Computed in log space: the Gauss hypergeometric term and the
    probability of being alive are combined as logs and ``1 - exp(.)`` uses ``expm1``.
    Entries where ``hyp2f1`` is not finite fall back to quadrature.

    Example:
        >>> p = BgNbdParams(r=0.8, alpha=4.0, a=1.5, b=3.0)
        >>> conditional_expected_purchases(p, 26.0, [0, 3], [0.0, 20.0], [10.0, 40.0]).round(3)
        array([1.003, 0.441])

    Args:
        params: Model parameters.
        t: Horizon length(s), same unit as ``alpha``; broadcast against the customers.
        frequency: Repeat purchases per customer (``x``).
        recency: Time of last minus first purchase (``t_x``).
        T: Observation time since first purchase.
        method: ``"closed_form"`` (eq. 10; requires ``a > 1``) or ``"quadrature"``
            (Gauss-Jacobi integration over the dropout probability; any ``a``).

    Returns:
        Expected purchases per customer (broadcast shape of ``t`` and the customers).

    Raises:
        ValueError: If ``method="closed_form"`` and ``a <= 1``, or on invalid inputs.
    """
    x, tx, big_t = customer_arrays(frequency, recency, T)
    horizon = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(horizon)) or np.any(horizon < 0):
        raise ValueError("horizon t must be finite and >= 0")
    horizon, x, tx, big_t = np.broadcast_arrays(horizon, x, tx, big_t)
    r, alpha, a, b = params.as_array()
    log_alive = -np.logaddexp(0.0, _log_odds_dead(params, x, tx, big_t))
    if method == "quadrature":
        mean_if_alive = _mean_count_quadrature(r + x, alpha + big_t, a, b + x, horizon)
        return np.exp(log_alive) * mean_if_alive
    if method != "closed_form":
        raise ValueError(f"method must be 'closed_form' or 'quadrature', got {method!r}")
    if a <= 1.0:
        raise ValueError(
            f"the closed-form expectation needs a > 1 (got a={a:.4g}); use method='quadrature'"
        )
    r_x = r + x
    z = horizon / (alpha + big_t + horizon)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_term = r_x * (np.log(alpha + big_t) - np.log(alpha + big_t + horizon)) + np.log(
            hyp2f1(r_x, b + x, a + b + x - 1.0, z)
        )
        log_prefactor = np.log(a + b + x - 1.0) - np.log(a - 1.0)
        value = np.exp(log_prefactor + log_alive) * (0.0 - np.expm1(log_term))
    bad = ~np.isfinite(value)
    if np.any(bad):
        value = np.array(value, dtype=float)
        value[bad] = np.exp(log_alive[bad]) * _mean_count_quadrature(
            r_x[bad], alpha + big_t[bad], a, b + x[bad], horizon[bad]
        )
    return value


def expected_repeat_purchases(
    params: BgNbdParams, t: ArrayLike, method: Method = "closed_form"
) -> NDArray[np.float64]:
    """E[X(t)]: expected repeat purchases in ``(0, t]`` for a customer who bought at time 0.

    Closed form (paper eq. 9): ``(a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r *
    2F1(r, b; a+b-1; t/(alpha+t))]``. Vectorised over ``t``; it is
    :func:`conditional_expected_purchases` for a new customer (``x = t_x = T = 0``).

    Example:
        >>> p = BgNbdParams(r=0.8, alpha=4.0, a=1.5, b=3.0)
        >>> expected_repeat_purchases(p, [4.0, 52.0]).round(3)
        array([0.628, 2.88 ])

    Args:
        params: Model parameters.
        t: Time(s) since the first purchase, in the unit of ``alpha``.
        method: ``"closed_form"`` (requires ``a > 1``) or ``"quadrature"`` (any ``a``).

    Returns:
        Expected repeat purchases, with the shape of ``t``.

    Raises:
        ValueError: If ``method="closed_form"`` and ``a <= 1``, or ``t`` is negative.
    """
    horizon = np.asarray(t, dtype=float)
    zeros = np.zeros(horizon.size)
    value = conditional_expected_purchases(
        params, horizon.ravel(), zeros, zeros, zeros, method=method
    )
    return value.reshape(horizon.shape)
