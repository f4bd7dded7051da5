"""BG/NBD log-likelihood (paper eq. 6), its gradient, and the maximum-likelihood fit."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln

from sim.bgnbd import BgNbdParams, customer_arrays

_LOG_BOUND = 15.0  # optimiser box on log-parameters: each parameter in [3e-7, 3.3e6]
_DEGENERATE_LOG = _LOG_BOUND - 1.0  # beyond [8e-7, 1.2e6] a parameter has run off to a limit


@dataclass(frozen=True)
class BgNbdFit:
    """Result of :func:`fit_bgnbd`.

    Attributes:
        params: Maximum-likelihood estimates.
        log_likelihood: Total log-likelihood at the estimates.
        standard_errors: Delta-method standard errors by parameter name (NaN when the
            numerical Hessian is not positive definite).
        n_customers: Number of customers in the fit.
        converged: Whether the fit can be trusted: the optimiser reported success, no
            parameter is at (or within a factor e of) the optimiser's box, and the Hessian is
            positive definite with finite standard errors. False means the data do not
            identify the model (see ``problems``).
        message: Optimiser message (plus the problems).
        problems: Why the fit is not converged (empty when it is).
    """

    params: BgNbdParams
    log_likelihood: float
    standard_errors: dict[str, float]
    n_customers: int
    converged: bool
    message: str
    problems: tuple[str, ...] = ()


def _log_likelihood_terms(
    theta: NDArray[np.float64],
    x: NDArray[np.float64],
    tx: NDArray[np.float64],
    big_t: NDArray[np.float64],
    with_gradient: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Per-customer log-likelihoods (eq. 6) and, optionally, their gradient w.r.t. theta."""
    r, alpha, a, b = theta
    repeat = x > 0
    b_x_1 = np.where(repeat, b + x - 1.0, 1.0)  # only used where x > 0
    log_a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    log_a2 = betaln(a, b + x) - betaln(a, b)
    log_a3 = -(r + x) * np.log(alpha + big_t)
    log_a4 = np.log(a) - np.log(b_x_1) - (r + x) * np.log(alpha + tx)
    log_a4 = np.where(repeat, log_a4, -np.inf)
    ll = log_a1 + log_a2 + np.logaddexp(log_a3, log_a4)
    if not with_gradient:
        return ll, None
    w4 = np.where(repeat, expit(log_a4 - np.where(repeat, log_a3, 0.0)), 0.0)
    w3 = 1.0 - w4
    d_r = (
        digamma(r + x)
        - digamma(r)
        + np.log(alpha)
        - w3 * np.log(alpha + big_t)
        - w4 * np.log(alpha + tx)
    )
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + big_t) + w4 / (alpha + tx))
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w4 / b_x_1
    return ll, np.stack([d_r, d_alpha, d_a, d_b])


def log_likelihood(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> float:
    """Total BG/NBD log-likelihood (paper eq. 6) of a customer summary.

    Args:
        params: Model parameters, with ``alpha`` in the unit of ``recency`` and ``T``.
        frequency: Repeat purchases per customer (``x``).
        recency: Time of last minus first purchase (``t_x``).
        T: Observation time since first purchase.

    Returns:
        The sum over customers of ln L(r, alpha, a, b | x, t_x, T).
    """
    x, tx, big_t = customer_arrays(frequency, recency, T)
    ll, _ = _log_likelihood_terms(params.as_array(), x, tx, big_t, with_gradient=False)
    return float(np.sum(ll))


def log_likelihood_gradient(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Analytic gradient of :func:`log_likelihood` with respect to ``(r, alpha, a, b)``.

    Args:
        params: Model parameters, with ``alpha`` in the unit of ``recency`` and ``T``.
        frequency: Repeat purchases per customer (``x``).
        recency: Time of last minus first purchase (``t_x``).
        T: Observation time since first purchase.

    Returns:
        ``[d/dr, d/dalpha, d/da, d/db]`` of the total log-likelihood.
    """
    x, tx, big_t = customer_arrays(frequency, recency, T)
    _, grad = _log_likelihood_terms(params.as_array(), x, tx, big_t, with_gradient=True)
    assert grad is not None
    return grad.sum(axis=1)


def _numerical_hessian(
    f: Callable[[NDArray[np.float64]], float], at: NDArray[np.float64], step: float = 1e-4
) -> NDArray[np.float64]:
    """Central finite-difference Hessian of a scalar function from function values."""
    n = at.size
    hessian = np.empty((n, n))
    f0 = f(at)
    eye = np.eye(n) * step
    for i in range(n):
        hessian[i, i] = (f(at + eye[i]) - 2.0 * f0 + f(at - eye[i])) / step**2
        for j in range(i + 1, n):
            value = (
                f(at + eye[i] + eye[j])
                - f(at + eye[i] - eye[j])
                - f(at - eye[i] + eye[j])
                + f(at - eye[i] - eye[j])
            ) / (4.0 * step**2)
            hessian[i, j] = hessian[j, i] = value
    return hessian


def _default_initial(x: NDArray[np.float64], big_t: NDArray[np.float64]) -> BgNbdParams:
    mean_rate = max(float(np.mean(x)) / max(float(np.mean(big_t)), 1e-9), 1e-6)
    return BgNbdParams(r=1.0, alpha=1.0 / mean_rate, a=1.0, b=3.0)


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    initial: BgNbdParams | None = None,
) -> BgNbdFit:
    """Fit the BG/NBD model by maximum likelihood.

    The optimiser works on log-parameters (L-BFGS-B with the analytic gradient, falling back
    to Nelder-Mead and a second L-BFGS-B polish if the first run fails). Standard errors come
    from a central finite-difference Hessian of the negative log-likelihood in log space and
    the delta method: ``se(theta) = theta * sqrt(diag(H^-1))``.

    Args:
        frequency: Repeat purchases per customer.
        recency: Time of last minus first purchase, in the unit of ``alpha``.
        T: Observation time since first purchase, same unit.
        initial: Optional starting point.

    Returns:
        The fit.

    Raises:
        ValueError: If there are no customers, no repeat buyers, or invalid data.
    """
    x, tx, big_t = customer_arrays(frequency, recency, T)
    if x.size == 0:
        raise ValueError("cannot fit BG/NBD: the summary has no customers")
    if not np.any(x > 0):
        raise ValueError(
            "cannot fit BG/NBD: no repeat buyers (every customer has frequency 0), so purchase "
            "rates and dropout are not identified; use a longer calibration window"
        )
    n = x.size
    start = initial if initial is not None else _default_initial(x, big_t)
    start_log = np.clip(np.log(start.as_array()), -_LOG_BOUND + 1, _LOG_BOUND - 1)

    def objective(log_theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        theta = np.exp(log_theta)
        ll, grad = _log_likelihood_terms(theta, x, tx, big_t, with_gradient=True)
        assert grad is not None
        value = -float(np.sum(ll)) / n
        if not math.isfinite(value):
            return 1e300, np.zeros(4)
        return value, -(grad.sum(axis=1) * theta) / n

    log_theta, success, messages = _optimise(objective, start_log)
    theta = np.exp(log_theta)

    def total_negative(log_t: NDArray[np.float64]) -> float:
        ll, _ = _log_likelihood_terms(np.exp(log_t), x, tx, big_t, with_gradient=False)
        return -float(np.sum(ll))

    ses = _standard_errors(_numerical_hessian(total_negative, log_theta), theta)
    problems = _fit_problems(success, log_theta, ses)
    return BgNbdFit(
        params=BgNbdParams(*(float(v) for v in theta)),
        log_likelihood=-total_negative(log_theta),
        standard_errors=dict(zip(("r", "alpha", "a", "b"), (float(s) for s in ses), strict=True)),
        n_customers=int(n),
        converged=not problems,
        message="; ".join(messages + problems),
        problems=tuple(problems),
    )


def _standard_errors(hessian: NDArray[np.float64], theta: NDArray[np.float64]) -> NDArray:
    """Delta-method standard errors from the log-space Hessian (NaN unless it is PD)."""
    if not (np.all(np.isfinite(hessian)) and np.all(np.linalg.eigvalsh(hessian) > 0)):
        return np.full(4, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        return theta * np.sqrt(np.diag(np.linalg.inv(hessian)))


def _fit_problems(success: bool, log_theta: NDArray[np.float64], ses: NDArray) -> list[str]:
    """Why a fit cannot be trusted: optimiser failure, a parameter at the box, no SEs."""
    problems = [] if success else ["the optimiser did not report convergence"]
    names = ("r", "alpha", "a", "b")
    edge = [
        f"{nm}={math.exp(v):.3g}"
        for nm, v in zip(names, log_theta, strict=True)
        if abs(v) >= _DEGENERATE_LOG
    ]
    if edge:
        problems.append(
            f"parameter(s) {', '.join(edge)} ran off to the optimiser's bounds "
            "(the model is degenerate for these data)"
        )
    if not np.all(np.isfinite(ses)):
        problems.append("Hessian not positive definite: standard errors unavailable")
    return problems


def _optimise(
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    start_log: NDArray[np.float64],
) -> tuple[NDArray[np.float64], bool, list[str]]:
    """Minimise ``objective`` (value, gradient) over the log box: L-BFGS-B, else a rescue.

    Returns the optimum, whether the last optimiser reported success, and its messages.
    """

    def value_only(log_theta: NDArray[np.float64]) -> float:
        return objective(log_theta)[0]

    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4
    options = {"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9}
    result = minimize(
        objective, start_log, jac=True, method="L-BFGS-B", bounds=bounds, options=options
    )
    messages = [f"L-BFGS-B: {result.message}"]
    if not result.success:
        rough = minimize(
            value_only,
            result.x,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-12},
        )
        result = minimize(
            objective,
            np.clip(rough.x, -_LOG_BOUND, _LOG_BOUND),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options=options,
        )
        messages += [f"Nelder-Mead: {rough.message}", f"L-BFGS-B polish: {result.message}"]
    return np.asarray(result.x, dtype=float), bool(result.success), messages
