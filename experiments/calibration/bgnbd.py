"""BG/NBD repeat-purchase model (Fader, Hardie & Lee 2005): summaries, fitting, checks."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, roots_jacobi

__all__ = [
    "PERIOD_DAYS",
    "BgNbdFit",
    "BgNbdParams",
    "HoldoutResult",
    "conditional_expected_purchases",
    "expected_repeat_purchases",
    "fit_bgnbd",
    "holdout_check",
    "log_likelihood",
    "plot_cumulative",
    "probability_alive",
    "summarize_transactions",
    "to_scenario_fragment",
]

#: Length of one time unit in days, by the ``period`` code used throughout this module.
PERIOD_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0}

Method = Literal["closed_form", "quadrature"]

_LOG_BOUND = 15.0  # optimiser box on log-parameters: each parameter in [3e-7, 3.3e6]
_QUADRATURE_NODES = 48
_FREQUENCY_BUCKETS = 7  # buckets 0..6 and "7+"


# --------------------------------------------------------------------------- parameters
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


@dataclass(frozen=True)
class BgNbdFit:
    """Result of :func:`fit_bgnbd`.

    Attributes:
        params: Maximum-likelihood estimates.
        log_likelihood: Total log-likelihood at the estimates.
        standard_errors: Delta-method standard errors by parameter name (NaN when the
            numerical Hessian is not positive definite).
        n_customers: Number of customers in the fit.
        converged: Whether the optimiser reported success away from the parameter box.
        message: Optimiser message (plus any Hessian warning).
    """

    params: BgNbdParams
    log_likelihood: float
    standard_errors: dict[str, float]
    n_customers: int
    converged: bool
    message: str


# --------------------------------------------------------------------------- summaries
def _unit_days(period: str) -> float:
    try:
        return PERIOD_DAYS[period]
    except KeyError:
        raise ValueError(f"period must be one of {sorted(PERIOD_DAYS)}, got {period!r}") from None


def _occasions(
    df: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None
) -> pd.DataFrame:
    """Collapse a transaction log to purchase occasions (one row per customer and day)."""
    missing = [c for c in (customer_col, date_col, amount_col) if c is not None and c not in df]
    if missing:
        raise KeyError(f"transaction log has no column(s) {missing}; columns: {list(df.columns)}")
    dates = df[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        raise TypeError(
            f"column {date_col!r} must hold datetimes (dtype {dates.dtype}); parse it first"
        )
    if dates.isna().any() or df[customer_col].isna().any():
        raise ValueError(f"transaction log has missing {customer_col!r} or {date_col!r} values")
    frame = pd.DataFrame({"customer": df[customer_col], "day": dates.dt.normalize()})
    if amount_col is not None:
        amounts = pd.to_numeric(df[amount_col], errors="raise").astype(float)
        if amounts.isna().any():
            raise ValueError(f"transaction log has missing {amount_col!r} values")
        frame["amount"] = amounts
    else:
        frame["amount"] = 0.0
    grouped = frame.groupby(["customer", "day"], sort=True, observed=True)["amount"].sum()
    return grouped.reset_index()


def _resolve_end(occasions: pd.DataFrame, end: Any) -> pd.Timestamp:
    if end is None:
        return pd.Timestamp(occasions["day"].max())
    return pd.Timestamp(end).normalize()


def _summarize_occasions(
    occasions: pd.DataFrame, end_day: pd.Timestamp, unit_days: float, with_monetary: bool
) -> pd.DataFrame:
    calibration = occasions[occasions["day"] <= end_day]
    grouped = calibration.groupby("customer", sort=True, observed=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    unit = pd.Timedelta(days=1) * unit_days
    summary = pd.DataFrame(
        {
            "frequency": (grouped.size() - 1).astype("int64"),
            "recency": ((last - first) / unit).astype(float),
            "T": ((end_day - first) / unit).astype(float),
        }
    )
    if with_monetary:
        summary["monetary"] = grouped["amount"].mean().astype(float)
    summary["first_purchase"] = first
    return summary


def summarize_transactions(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    calibration_end: Any = None,
    period: str = "W",
) -> pd.DataFrame:
    """Summarise a transaction log into the BG/NBD sufficient statistics per customer.

    Transactions are grouped into purchase occasions by calendar day: several transactions by
    one customer on the same day count once. Only occasions on or before the calendar day of
    ``calibration_end`` are used, so customers whose first purchase is later are excluded.

    Args:
        df: Transaction log, one row per transaction.
        customer_col: Column identifying the customer.
        date_col: Column of transaction datetimes (datetime64 of any resolution, optionally
            tz-aware).
        amount_col: Optional column of transaction amounts.
        calibration_end: End of the calibration window (anything ``pd.Timestamp`` accepts; only
            its calendar day matters). Defaults to the last transaction day in the log.
        period: Time unit of ``recency`` and ``T``: ``"D"`` (days) or ``"W"`` (weeks of 7 days).

    Returns:
        A frame indexed by customer (index named ``customer_col``) with columns ``frequency``
        (repeat occasions: distinct purchase days minus one), ``recency`` (last minus first
        purchase day), ``T`` (calibration end minus first purchase day), ``monetary`` (mean
        amount per occasion, only when ``amount_col`` is given) and ``first_purchase`` (the
        first purchase day, a datetime).

    Raises:
        KeyError: If a named column is missing.
        TypeError: If ``date_col`` is not a datetime column.
        ValueError: On missing values or an unknown period.
    """
    unit_days = _unit_days(period)
    occasions = _occasions(df, customer_col, date_col, amount_col)
    end_day = _resolve_end(occasions, calibration_end)
    summary = _summarize_occasions(occasions, end_day, unit_days, amount_col is not None)
    summary.index.name = customer_col
    return summary


# --------------------------------------------------------------------------- likelihood
def _as_data(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
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
    x, tx, big_t = _as_data(frequency, recency, T)
    ll, _ = _log_likelihood_terms(params.as_array(), x, tx, big_t, with_gradient=False)
    return float(np.sum(ll))


# --------------------------------------------------------------------------- fitting
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
    x, tx, big_t = _as_data(frequency, recency, T)
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
    log_theta = np.asarray(result.x, dtype=float)
    at_bound = bool(np.any(np.abs(log_theta) >= _LOG_BOUND - 1e-6))
    if at_bound:
        messages.append("a parameter reached the optimiser box; the model may be degenerate")
    theta = np.exp(log_theta)
    params = BgNbdParams(*(float(v) for v in theta))

    def total_negative(log_t: NDArray[np.float64]) -> float:
        ll, _ = _log_likelihood_terms(np.exp(log_t), x, tx, big_t, with_gradient=False)
        return -float(np.sum(ll))

    hessian = _numerical_hessian(total_negative, log_theta)
    ses = np.full(4, np.nan)
    if np.all(np.isfinite(hessian)) and np.all(np.linalg.eigvalsh(hessian) > 0):
        covariance_log = np.linalg.inv(hessian)
        ses = theta * np.sqrt(np.diag(covariance_log))
    else:
        messages.append("Hessian not positive definite: standard errors unavailable")
    return BgNbdFit(
        params=params,
        log_likelihood=-total_negative(log_theta),
        standard_errors=dict(zip(("r", "alpha", "a", "b"), (float(s) for s in ses), strict=True)),
        n_customers=int(n),
        converged=bool(result.success) and not at_bound,
        message="; ".join(messages),
    )


# --------------------------------------------------------------------------- expectations
def _mean_count_quadrature(
    r: NDArray[np.float64],
    alpha: NDArray[np.float64],
    a: float,
    b: NDArray[np.float64],
    t: NDArray[np.float64],
) -> NDArray[np.float64]:
    """E[(1 - (alpha / (alpha + p t))^r) / p] for p ~ Beta(a, b), by Gauss-Jacobi quadrature.

    This is the expected number of purchases in ``t`` for a customer alive now whose rate is
    Gamma(r, alpha) and dropout Beta(a, b); valid for every a > 0.
    """
    out = np.empty(r.shape)
    unique_b, inverse = np.unique(b, return_inverse=True)
    for k, b_value in enumerate(unique_b):
        nodes, weights = roots_jacobi(_QUADRATURE_NODES, b_value - 1.0, a - 1.0)
        weights = weights / weights.sum()
        p = (1.0 + nodes) / 2.0
        sel = inverse.reshape(r.shape) == k
        rr, aa, tt = r[sel][:, None], alpha[sel][:, None], t[sel][:, None]
        g = -np.expm1(-rr * np.log1p(p[None, :] * tt / aa)) / p[None, :]
        out[sel] = g @ weights
    return out


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
    x, tx, big_t = _as_data(frequency, recency, T)
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

    Computed in log space: the Gauss hypergeometric term and the probability of being alive
    are combined as logs and ``1 - exp(.)`` uses ``expm1``. Entries where ``hyp2f1`` is not
    finite fall back to quadrature.

    Args:
        params: Model parameters.
        t: Horizon length(s), same unit as ``alpha``; broadcast against the customers.
        frequency: Repeat purchases per customer.
        recency: Time of last minus first purchase.
        T: Observation time since first purchase.
        method: ``"closed_form"`` (eq. 10; requires ``a > 1``) or ``"quadrature"``
            (Gauss-Jacobi integration over the dropout probability; any ``a``).

    Returns:
        Expected purchases per customer (broadcast shape of ``t`` and the customers).

    Raises:
        ValueError: If ``method="closed_form"`` and ``a <= 1``, or on invalid inputs.
    """
    x, tx, big_t = _as_data(frequency, recency, T)
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
    2F1(r, b; a+b-1; t/(alpha+t))]``.

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


# --------------------------------------------------------------------------- holdout
@dataclass(frozen=True, eq=False)
class HoldoutResult:
    """Calibration/holdout comparison produced by :func:`holdout_check`.

    Attributes:
        params: Parameters used for the predictions (time unit ``period``).
        period: Time unit code (``"D"`` or ``"W"``).
        calibration_end: Last calendar day of the calibration window.
        holdout_end: Last calendar day of the holdout window.
        holdout_length: Holdout length in ``period`` units.
        customers: Calibration summary per customer plus ``actual_holdout`` (repeat
            occasions in the holdout) and ``predicted_holdout`` (eq. 10).
        by_frequency: Per calibration-frequency bucket (``"0"`` ... ``"6"``, ``"7+"``):
            ``n_customers``, ``actual_mean``, ``predicted_mean``, ``actual_total``,
            ``predicted_total``.
        cumulative: Daily cumulative repeat occasions of the calibration cohort, indexed by
            day, with columns ``actual`` and ``model`` (sum over customers of
            ``E[X(day - first purchase)]``).
        actual_total: Total repeat occasions in the holdout.
        predicted_total: Total predicted holdout purchases.
    """

    params: BgNbdParams
    period: str
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp
    holdout_length: float
    customers: pd.DataFrame
    by_frequency: pd.DataFrame
    cumulative: pd.DataFrame
    actual_total: float
    predicted_total: float


def _method_for(params: BgNbdParams) -> Method:
    return "closed_form" if params.a > 1.0 else "quadrature"


def holdout_check(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    calibration_end: Any,
    period: str = "W",
    params: BgNbdParams | None = None,
    holdout_end: Any = None,
) -> HoldoutResult:
    """Compare BG/NBD predictions with what happened after the calibration window.

    The calibration cohort is every customer with a first purchase on or before
    ``calibration_end``; customers first seen in the holdout are ignored. Purchase occasions
    are calendar days, as in :func:`summarize_transactions`.

    Args:
        df: Transaction log covering calibration and holdout.
        customer_col: Customer column.
        date_col: Datetime column.
        calibration_end: Last day of the calibration window.
        period: Time unit of the model (``"D"`` or ``"W"``).
        params: Parameters to check; fitted on the calibration summary when omitted.
        holdout_end: Last day of the holdout window; defaults to the last day in the log.

    Returns:
        The comparison tables.

    Raises:
        ValueError: If the holdout window is empty or the fit fails.
    """
    unit_days = _unit_days(period)
    occasions = _occasions(df, customer_col, date_col, None)
    cal_end = _resolve_end(occasions, calibration_end)
    hold_end = _resolve_end(occasions, holdout_end)
    if hold_end <= cal_end:
        raise ValueError(
            f"holdout window is empty: holdout_end {hold_end.date()} is not after "
            f"calibration_end {cal_end.date()}"
        )
    occasions = occasions[occasions["day"] <= hold_end]
    summary = _summarize_occasions(occasions, cal_end, unit_days, with_monetary=False)
    if params is None:
        params = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"]).params
    method = _method_for(params)
    one_day = pd.Timedelta(days=1)
    holdout_length = float((hold_end - cal_end) / one_day) / unit_days

    in_cohort = occasions[occasions["customer"].isin(summary.index)]
    holdout = in_cohort[in_cohort["day"] > cal_end]
    actual = holdout.groupby("customer", observed=True).size()
    customers = summary.copy()
    customers["actual_holdout"] = actual.reindex(customers.index, fill_value=0).astype("int64")
    customers["predicted_holdout"] = conditional_expected_purchases(
        params,
        holdout_length,
        customers["frequency"].to_numpy(),
        customers["recency"].to_numpy(),
        customers["T"].to_numpy(),
        method=method,
    )
    customers.index.name = customer_col

    labels = [str(k) for k in range(_FREQUENCY_BUCKETS)] + [f"{_FREQUENCY_BUCKETS}+"]
    bucket_codes = np.minimum(customers["frequency"].to_numpy(), _FREQUENCY_BUCKETS)
    bucket = pd.Categorical.from_codes(bucket_codes, categories=labels)
    by_frequency = (
        customers[["actual_holdout", "predicted_holdout"]]
        .groupby(bucket, observed=False)
        .agg(
            n_customers=("actual_holdout", "size"),
            actual_mean=("actual_holdout", "mean"),
            predicted_mean=("predicted_holdout", "mean"),
            actual_total=("actual_holdout", "sum"),
            predicted_total=("predicted_holdout", "sum"),
        )
    )
    by_frequency.index = pd.Index(labels, name="calibration_frequency")

    # Cumulative repeat occasions by calendar day: actual counts vs a convolution of cohort
    # sizes (customers per first-purchase day) with E[X(lag)].
    start = summary["first_purchase"].min()
    days = pd.date_range(start, hold_end, freq="D")
    n_days = len(days)
    first_offsets = ((summary["first_purchase"] - start) / one_day).round().astype("int64")
    cohort_sizes = np.bincount(first_offsets.to_numpy(), minlength=n_days).astype(float)
    lags = np.arange(n_days, dtype=float) / unit_days
    expected_by_lag = expected_repeat_purchases(params, lags, method=method)
    model = np.convolve(cohort_sizes, expected_by_lag)[:n_days]
    is_repeat = (
        in_cohort["day"].to_numpy()
        != in_cohort["customer"].map(summary["first_purchase"]).to_numpy()
    )
    repeat_days = in_cohort.loc[is_repeat, "day"]
    repeat_offsets = ((repeat_days - start) / one_day).round().astype("int64").to_numpy()
    actual_daily = np.bincount(repeat_offsets, minlength=n_days).astype(float)
    cumulative = pd.DataFrame(
        {"actual": np.cumsum(actual_daily), "model": model}, index=pd.Index(days, name="day")
    )
    return HoldoutResult(
        params=params,
        period=period,
        calibration_end=cal_end,
        holdout_end=hold_end,
        holdout_length=holdout_length,
        customers=customers,
        by_frequency=by_frequency,
        cumulative=cumulative,
        actual_total=float(customers["actual_holdout"].sum()),
        predicted_total=float(customers["predicted_holdout"].sum()),
    )


def plot_cumulative(result: HoldoutResult, path: str | Path) -> Path:
    """Plot cumulative repeat purchases, actual vs model, and save a PNG.

    Args:
        result: Output of :func:`holdout_check`.
        path: Destination file (``.png``).

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    fig, (ax_cum, ax_freq) = plt.subplots(1, 2, figsize=(11, 4.2))
    try:
        cumulative = result.cumulative
        ax_cum.plot(cumulative.index, cumulative["actual"], label="actual", color="black")
        ax_cum.plot(cumulative.index, cumulative["model"], label="BG/NBD", linestyle="--")
        ax_cum.axvline(result.calibration_end, color="grey", linestyle=":", label="calibration end")
        ax_cum.set_xlabel("date")
        ax_cum.set_ylabel("cumulative repeat purchases")
        ax_cum.legend()
        ax_cum.tick_params(axis="x", labelrotation=30)
        table = result.by_frequency
        positions = np.arange(len(table))
        ax_freq.plot(positions, table["actual_mean"], marker="o", color="black", label="actual")
        ax_freq.plot(positions, table["predicted_mean"], marker="s", linestyle="--", label="BG/NBD")
        ax_freq.set_xticks(positions, list(table.index))
        ax_freq.set_xlabel("repeat purchases in calibration")
        ax_freq.set_ylabel("mean repeat purchases in holdout")
        ax_freq.legend()
        fig.tight_layout()
        fig.savefig(out, format="png", dpi=110)
    finally:
        plt.close(fig)
    return out


# --------------------------------------------------------------------------- scenario
def to_scenario_fragment(params: BgNbdParams, period: str) -> dict[str, float]:
    """Convert parameters to the simulator's per-day repeat block.

    ``alpha`` is a rate scale (the purchase rate is Gamma(r, rate=alpha) per unit), so a
    weekly ``alpha`` becomes ``alpha_days = 7 * alpha``; ``r``, ``a`` and ``b`` are unit-free.

    Args:
        params: Fitted parameters in ``period`` units.
        period: ``"D"`` or ``"W"``.

    Returns:
        ``{"r": ..., "alpha_days": ..., "a": ..., "b": ...}``.
    """
    unit_days = _unit_days(period)
    return {
        "r": float(params.r),
        "alpha_days": float(params.alpha * unit_days),
        "a": float(params.a),
        "b": float(params.b),
    }
