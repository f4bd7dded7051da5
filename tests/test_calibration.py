"""Tests for experiments.calibration: BG/NBD likelihood, fitting, expectations, logit demand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray

from experiments.calibration import (
    BgNbdParams,
    bgnbd_to_scenario_fragment,
    conditional_expected_purchases,
    estimate_logit,
    expected_repeat_purchases,
    fit_bgnbd,
    holdout_check,
    log_likelihood,
    log_likelihood_gradient,
    logit_to_scenario_fragment,
    plot_cumulative,
    summarize_transactions,
)


# --------------------------------------------------------------------------- helpers
def simulate_bgnbd(
    rng: np.random.Generator, params: BgNbdParams, horizon: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Repeat-purchase times of BG/NBD customers who bought at time 0, up to ``horizon[i]``.

    Rate ~ Gamma(r, rate alpha), dropout ~ Beta(a, b); after each repeat purchase the customer
    drops out with probability p. Returns (customer index, purchase time) per repeat purchase.
    """
    n = horizon.size
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    clock = np.zeros(n)
    active = np.ones(n, dtype=bool)
    who: list[NDArray[np.int64]] = []
    when: list[NDArray[np.float64]] = []
    while True:
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        clock[idx] += rng.exponential(1.0, idx.size) / rate[idx]
        past = clock[idx] > horizon[idx]
        active[idx[past]] = False
        buyers = idx[~past]
        who.append(buyers)
        when.append(clock[buyers].copy())
        active[buyers[rng.random(buyers.size) < dropout[buyers]]] = False
    return np.concatenate(who), np.concatenate(when)


def summary_from_times(
    who: NDArray[np.int64], when: NDArray[np.float64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    frequency = np.bincount(who, minlength=n)
    recency = np.zeros(n)
    np.maximum.at(recency, who, when)
    return frequency, recency


def direct_likelihood(params: BgNbdParams, x: int, t_x: float, big_t: float) -> float:
    """BG/NBD likelihood of one customer, eq. (6) expanded with plain gamma functions."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b

    def beta_fn(p: float, q: float) -> float:
        return math.gamma(p) * math.gamma(q) / math.gamma(p + q)

    rate_part = math.gamma(r + x) * alpha**r / math.gamma(r)
    value = beta_fn(a, b + x) / beta_fn(a, b) * rate_part / (alpha + big_t) ** (r + x)
    if x > 0:
        value += beta_fn(a + 1, b + x - 1) / beta_fn(a, b) * rate_part / (alpha + t_x) ** (r + x)
    return value


# --------------------------------------------------------------------------- likelihood
HAND_SUMMARY = [(0, 0.0, 10.0), (0, 0.0, 3.5), (1, 2.0, 8.0), (4, 7.5, 9.0), (10, 30.0, 38.2)]


@pytest.mark.parametrize(
    "params",
    [BgNbdParams(0.6, 3.2, 0.9, 2.4), BgNbdParams(2.5, 11.0, 1.7, 0.7)],
)
def test_log_likelihood_matches_direct_formula(params: BgNbdParams) -> None:
    x, t_x, big_t = (np.array(col, dtype=float) for col in zip(*HAND_SUMMARY, strict=True))
    expected = sum(math.log(direct_likelihood(params, *row)) for row in HAND_SUMMARY)
    assert log_likelihood(params, x, t_x, big_t) == pytest.approx(expected, rel=1e-10, abs=1e-8)


def test_log_likelihood_gradient_matches_finite_differences() -> None:
    x, t_x, big_t = (np.array(col, dtype=float) for col in zip(*HAND_SUMMARY, strict=True))
    theta = np.array([0.6, 3.2, 0.9, 2.4])
    grad = log_likelihood_gradient(BgNbdParams(*theta), x, t_x, big_t)
    assert grad.shape == (4,)
    step = 1e-6
    for i in range(4):
        shift = np.zeros(4)
        shift[i] = step
        up = log_likelihood(BgNbdParams(*(theta + shift)), x, t_x, big_t)
        down = log_likelihood(BgNbdParams(*(theta - shift)), x, t_x, big_t)
        numeric = (up - down) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-6, abs=1e-7)


def test_log_likelihood_rejects_recency_beyond_t() -> None:
    with pytest.raises(ValueError, match="recency"):
        log_likelihood(BgNbdParams(1, 1, 1, 1), [1], [5.0], [4.0])


# --------------------------------------------------------------------------- fitting
TRUE_WEEKLY = BgNbdParams(r=1.0, alpha=5.0, a=0.8, b=4.0)


def test_fit_recovers_parameters_from_simulated_customers() -> None:
    # 40,000 customers entering uniformly over a year, observed 52-104 weeks. Relative standard
    # errors are about 1% (r, alpha), 2% (a) and 3% (b), so the 10% tolerance is > 3 SEs for
    # every parameter (over 60 seeds the largest error seen was 6.7%, on b).
    rng = np.random.default_rng(20240601)
    n = 40_000
    big_t = rng.uniform(52.0, 104.0, n)
    who, when = simulate_bgnbd(rng, TRUE_WEEKLY, big_t)
    frequency, recency = summary_from_times(who, when, n)
    fit = fit_bgnbd(frequency, recency, big_t)
    assert fit.converged, fit.message
    assert fit.n_customers == n
    assert fit.log_likelihood == pytest.approx(
        log_likelihood(fit.params, frequency, recency, big_t)
    )
    for name in ("r", "alpha", "a", "b"):
        true_value = getattr(TRUE_WEEKLY, name)
        estimate = getattr(fit.params, name)
        se = fit.standard_errors[name]
        assert estimate == pytest.approx(true_value, rel=0.10), name
        assert se > 0, name
        assert abs(estimate - true_value) < 4 * se, (name, estimate, se)
    # The estimate is a maximum: the true parameters have a lower likelihood.
    assert fit.log_likelihood >= log_likelihood(TRUE_WEEKLY, frequency, recency, big_t)


def test_fit_rejects_no_repeat_buyers_and_no_customers() -> None:
    with pytest.raises(ValueError, match="no repeat buyers"):
        fit_bgnbd([0, 0, 0], [0.0, 0.0, 0.0], [5.0, 6.0, 7.0])
    with pytest.raises(ValueError, match="no customers"):
        fit_bgnbd([], [], [])


# --------------------------------------------------------------------------- expectations
MC_PARAMS = BgNbdParams(r=0.8, alpha=4.0, a=1.5, b=3.0)


def test_expected_repeat_purchases_matches_monte_carlo() -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    horizons = np.array([4.0, 26.0, 104.0])
    who, when = simulate_bgnbd(rng, MC_PARAMS, np.full(n, horizons.max()))
    model = expected_repeat_purchases(MC_PARAMS, horizons)
    for t, expected in zip(horizons, model, strict=True):
        counts = np.bincount(who[when <= t], minlength=n)
        standard_error = counts.std(ddof=1) / math.sqrt(n)
        assert abs(counts.mean() - expected) < 3 * standard_error, (t, counts.mean(), expected)


def test_expected_purchases_closed_form_matches_quadrature_and_needs_a_above_one() -> None:
    t = np.array([0.0, 0.5, 10.0, 52.0, 400.0])
    closed = expected_repeat_purchases(MC_PARAMS, t)
    assert closed[0] == 0.0
    np.testing.assert_allclose(
        closed, expected_repeat_purchases(MC_PARAMS, t, method="quadrature"), rtol=1e-8
    )
    x = np.array([0, 1, 3, 12, 40])
    t_x = np.array([0.0, 5.0, 20.0, 30.0, 31.0])
    big_t = np.array([10.0, 30.0, 40.0, 40.0, 32.0])
    np.testing.assert_allclose(
        conditional_expected_purchases(MC_PARAMS, 26.0, x, t_x, big_t),
        conditional_expected_purchases(MC_PARAMS, 26.0, x, t_x, big_t, method="quadrature"),
        rtol=1e-8,
    )
    with pytest.raises(ValueError, match="a > 1"):
        expected_repeat_purchases(TRUE_WEEKLY, t)
    assert np.all(np.diff(expected_repeat_purchases(TRUE_WEEKLY, t, method="quadrature")) > 0)


# --------------------------------------------------------------------------- summaries
def transaction_log(unit: str = "us") -> pd.DataFrame:
    log = pd.DataFrame(
        {
            "customer": ["c1", "c1", "c1", "c1", "c2", "c3"],
            "date": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:30",
                    "2024-01-15 12:00",
                    "2024-02-20 08:00",
                    "2024-01-10 23:59",
                    "2024-02-05 10:00",
                ]
            ).astype(f"datetime64[{unit}]"),
            "amount": [10.0, 5.0, 30.0, 100.0, 20.0, 7.0],
        }
    )
    return log


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_summarize_transactions_collapses_days_and_respects_calibration_end(unit: str) -> None:
    log = transaction_log(unit)
    weeks = summarize_transactions(log, "customer", "date", "amount", "2024-01-31", period="W")
    assert list(weeks.index) == ["c1", "c2"]  # c3 first bought after calibration_end
    assert weeks.index.name == "customer"
    assert weeks.loc["c1", "frequency"] == 1  # two transactions on 1 Jan are one occasion
    assert weeks.loc["c1", "recency"] == pytest.approx(2.0)
    assert weeks.loc["c1", "T"] == pytest.approx(30 / 7)
    assert weeks.loc["c1", "monetary"] == pytest.approx((15.0 + 30.0) / 2)
    assert weeks.loc["c2", "frequency"] == 0
    assert weeks.loc["c2", "recency"] == 0.0
    assert weeks.loc["c2", "T"] == pytest.approx(3.0)
    assert weeks.loc["c2", "monetary"] == pytest.approx(20.0)

    days = summarize_transactions(log, "customer", "date", calibration_end="2024-01-31", period="D")
    assert "monetary" not in days
    np.testing.assert_allclose(days["recency"], weeks["recency"] * 7)
    np.testing.assert_allclose(days["T"], [30.0, 21.0])

    whole = summarize_transactions(log, "customer", "date", period="D")  # ends 2024-02-20
    assert list(whole.index) == ["c1", "c2", "c3"]
    assert whole.loc["c1", "frequency"] == 2
    assert whole.loc["c1", "T"] == pytest.approx(50.0)
    assert whole.loc["c3", "T"] == pytest.approx(15.0)


def test_summarize_transactions_accepts_tz_aware_and_rejects_strings() -> None:
    log = transaction_log()
    aware = log.assign(date=log["date"].dt.tz_localize("UTC"))
    summary = summarize_transactions(
        aware, "customer", "date", calibration_end=pd.Timestamp("2024-01-31", tz="UTC")
    )
    assert summary.loc["c1", "T"] == pytest.approx(30 / 7)
    with pytest.raises(TypeError, match="datetimes"):
        summarize_transactions(log.assign(date=log["date"].astype(str)), "customer", "date")
    with pytest.raises(ValueError, match="period"):
        summarize_transactions(log, "customer", "date", period="M")


# --------------------------------------------------------------------------- holdout
def simulated_log(rng: np.random.Generator, params_daily: BgNbdParams, n: int) -> pd.DataFrame:
    """Transaction log of customers entering over the first 180 days of a 540-day window."""
    start = pd.Timestamp("2023-01-01")
    first_day = rng.integers(0, 180, n)
    horizon = 540.0 - first_day
    who, when = simulate_bgnbd(rng, params_daily, horizon)
    day = np.concatenate([first_day, first_day[who] + np.floor(when).astype(np.int64)])
    customer = np.concatenate([np.arange(n), who])
    return pd.DataFrame(
        {
            "customer": [f"u{i:05d}" for i in customer],
            "date": start + pd.to_timedelta(day, unit="D") + pd.Timedelta(hours=12),
        }
    )


def test_holdout_check_predicts_simulated_holdout(tmp_path: Path) -> None:
    rng = np.random.default_rng(99)
    daily = BgNbdParams(r=0.8, alpha=28.0, a=1.5, b=3.0)
    log = simulated_log(rng, daily, 6_000)
    calibration_end = pd.Timestamp("2023-01-01") + pd.Timedelta(days=359)
    result = holdout_check(log, "customer", "date", calibration_end, period="D", params=daily)
    assert result.holdout_length == pytest.approx(180.0)
    assert len(result.customers) == 6_000
    assert result.by_frequency["n_customers"].sum() == 6_000
    assert list(result.by_frequency.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert result.predicted_total == pytest.approx(result.actual_total, rel=0.06)
    cumulative = result.cumulative
    assert cumulative.index[-1] == result.holdout_end
    assert cumulative["actual"].iloc[-1] == pytest.approx(cumulative["model"].iloc[-1], rel=0.06)
    assert cumulative.loc[calibration_end, "actual"] == pytest.approx(
        result.customers["frequency"].sum()
    )

    # Fitting on the calibration window (weekly units) gives comparable predictions.
    fitted = holdout_check(log, "customer", "date", calibration_end, period="W")
    assert fitted.predicted_total == pytest.approx(fitted.actual_total, rel=0.10)
    assert fitted.holdout_length == pytest.approx(180 / 7)

    png = plot_cumulative(result, tmp_path / "cumulative.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- scenario units
def test_bgnbd_scenario_fragment_converts_weeks_to_days() -> None:
    weekly = BgNbdParams(r=0.9, alpha=3.0, a=1.4, b=2.5)
    fragment = bgnbd_to_scenario_fragment(weekly, "W")
    assert fragment == {"r": 0.9, "alpha_days": 21.0, "a": 1.4, "b": 2.5}
    assert bgnbd_to_scenario_fragment(weekly, "D")["alpha_days"] == 3.0
    daily = BgNbdParams(fragment["r"], fragment["alpha_days"], fragment["a"], fragment["b"])
    np.testing.assert_allclose(
        expected_repeat_purchases(daily, [7.0, 70.0]),
        expected_repeat_purchases(weekly, [1.0, 10.0]),
        rtol=1e-12,
    )


# --------------------------------------------------------------------------- logit demand
TRUE_ALPHA = 1.5
TRUE_BETAS = {"const": 1.0, "quality": 0.8, "eco_score": 1.0}


def logit_markets(
    rng: np.random.Generator, xi_sd: float, price_on_xi: float, n_markets: int = 200
) -> pd.DataFrame:
    """Exact logit shares for ``n_markets`` x 5 products with structural error ``xi``."""
    n_products = 5
    size = n_markets * n_products
    quality = rng.normal(0.0, 1.0, size)
    eco = rng.uniform(0.0, 1.0, size)
    cost = rng.uniform(0.0, 2.0, size)
    xi = rng.normal(0.0, xi_sd, size)
    price = 1.0 + cost + 0.3 * quality + price_on_xi * xi + rng.normal(0.0, 0.1, size)
    delta = (
        TRUE_BETAS["const"]
        - TRUE_ALPHA * price
        + TRUE_BETAS["quality"] * quality
        + TRUE_BETAS["eco_score"] * eco
        + xi
    )
    expd = np.exp(delta).reshape(n_markets, n_products)
    share = (expd / (1.0 + expd.sum(axis=1, keepdims=True))).ravel()
    return pd.DataFrame(
        {
            "market": np.repeat(np.arange(n_markets), n_products),
            "product": np.tile([f"p{j}" for j in range(n_products)], n_markets),
            "price": price,
            "share": share,
            "quality": quality,
            "eco_score": eco,
            "cost": cost,
        }
    )


def test_logit_ols_recovers_parameters() -> None:
    data = logit_markets(np.random.default_rng(3), xi_sd=0.1, price_on_xi=0.0)
    fit = estimate_logit(data)
    assert fit.method == "ols"
    assert fit.n_obs == 1000
    assert fit.n_markets == 200
    assert fit.alpha == pytest.approx(TRUE_ALPHA, rel=0.05)
    for name, value in TRUE_BETAS.items():
        assert fit.betas[name] == pytest.approx(value, rel=0.05), name
        assert abs(fit.betas[name] - value) < 4 * fit.standard_errors[name]
    assert abs(fit.alpha - TRUE_ALPHA) < 4 * fit.standard_errors["alpha"]
    assert all(se > 0 for se in fit.robust_standard_errors.values())
    assert fit.r_squared is not None and fit.r_squared > 0.95
    assert fit.first_stage_f is None
    expected_elasticity = np.mean(-fit.alpha * data["price"] * (1 - data["share"]))
    assert fit.mean_own_price_elasticity == pytest.approx(expected_elasticity)

    exact = estimate_logit(logit_markets(np.random.default_rng(3), xi_sd=0.0, price_on_xi=0.0))
    assert exact.alpha == pytest.approx(TRUE_ALPHA, rel=1e-9)
    assert exact.betas["eco_score"] == pytest.approx(TRUE_BETAS["eco_score"], rel=1e-9)


def test_logit_2sls_corrects_price_endogeneity() -> None:
    data = logit_markets(np.random.default_rng(11), xi_sd=0.3, price_on_xi=0.8)
    ols = estimate_logit(data)
    iv = estimate_logit(data, instruments=["cost"])
    assert iv.method == "2sls"
    assert iv.r_squared is None
    assert iv.first_stage_f is not None and iv.first_stage_f > 100
    assert iv.alpha == pytest.approx(TRUE_ALPHA, rel=0.05)
    assert abs(iv.alpha - TRUE_ALPHA) < 4 * iv.standard_errors["alpha"]
    assert abs(ols.alpha - TRUE_ALPHA) > 3 * abs(iv.alpha - TRUE_ALPHA)
    assert ols.alpha < TRUE_ALPHA  # price rises with unobserved quality: OLS understates alpha


def test_logit_rejects_invalid_shares() -> None:
    data = logit_markets(np.random.default_rng(5), xi_sd=0.0, price_on_xi=0.0, n_markets=10)
    too_big = data.copy()
    too_big.loc[too_big["market"] == 3, "share"] = 0.25  # five products: inside total 1.25
    with pytest.raises(ValueError, match="outside share"):
        estimate_logit(too_big)
    exactly_one = data.copy()
    exactly_one.loc[exactly_one["market"] == 0, "share"] = 0.2
    with pytest.raises(ValueError, match="outside share"):
        estimate_logit(exactly_one)
    zero = data.copy()
    zero.loc[0, "share"] = 0.0
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        estimate_logit(zero)
    with pytest.raises(KeyError, match="missing_col"):
        estimate_logit(data, characteristics=["missing_col"])


def test_logit_scenario_fragment() -> None:
    data = logit_markets(np.random.default_rng(3), xi_sd=0.0, price_on_xi=0.0)
    data["size_cm"] = np.random.default_rng(4).uniform(1.0, 2.0, len(data))
    fit = estimate_logit(data, characteristics=["quality", "eco_score", "size_cm"])
    fragment = logit_to_scenario_fragment(fit)
    assert fragment["price_sensitivity"] == {"mean": pytest.approx(TRUE_ALPHA), "cv": 0.0}
    assert fragment["quality_weight"] == pytest.approx(TRUE_BETAS["quality"])
    assert fragment["eco_weight"] == pytest.approx(TRUE_BETAS["eco_score"])
    assert fragment["outside_utility"] == pytest.approx(-TRUE_BETAS["const"])
    assert fragment["other_betas"] == {"size_cm": pytest.approx(0.0, abs=1e-9)}


def test_calibration_inputs_from_a_dataframe_name_column_and_row() -> None:
    """Time stamps in several zones, or a missing amount, in a DataFrame are refused."""
    from experiments.calibration import CalibrationInputError, calibrate_transactions

    stamps = [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-05", tz="Europe/Paris")]
    frame = pd.DataFrame({"customer_id": ["a", "a"], "date": stamps, "amount": [1.0, None]})
    with pytest.raises(CalibrationInputError, match=r"<DataFrame>: column 'date' mixes time zones"):
        calibrate_transactions(frame)
    frame["date"] = [s.tz_convert("UTC") for s in stamps]
    with pytest.raises(CalibrationInputError, match=r"column 'amount' must hold.*first at row 2"):
        calibrate_transactions(frame, amount_col="amount")
