"""Holdout check: BG/NBD predictions against what the calibration cohort bought afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration.bgnbd._likelihood import fit_bgnbd
from experiments.calibration.bgnbd._params import period_days
from experiments.calibration.bgnbd._summary import (
    end_day,
    purchase_occasions,
    summarize_occasions,
)
from sim.bgnbd import (
    BgNbdParams,
    Method,
    conditional_expected_purchases,
    expected_repeat_purchases,
)

_FREQUENCY_BUCKETS = 7  # buckets 0..6 and "7+"
_ONE_DAY = pd.Timedelta(days=1)


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
    unit_days = period_days(period)
    occasions = purchase_occasions(df, customer_col, date_col, None)
    cal_end = end_day(occasions, calibration_end)
    hold_end = end_day(occasions, holdout_end)
    if hold_end <= cal_end:
        raise ValueError(
            f"holdout window is empty: holdout_end {hold_end.date()} is not after "
            f"calibration_end {cal_end.date()}"
        )
    occasions = occasions[occasions["day"] <= hold_end]
    summary = summarize_occasions(occasions, cal_end, unit_days, with_monetary=False)
    if params is None:
        params = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"]).params
    method = _method_for(params)
    holdout_length = float((hold_end - cal_end) / _ONE_DAY) / unit_days

    in_cohort = occasions[occasions["customer"].isin(summary.index)]
    customers = _customer_predictions(summary, in_cohort, cal_end, params, holdout_length, method)
    customers.index.name = customer_col
    cumulative = _cumulative(summary, in_cohort, hold_end, params, unit_days, method)
    return HoldoutResult(
        params=params,
        period=period,
        calibration_end=cal_end,
        holdout_end=hold_end,
        holdout_length=holdout_length,
        customers=customers,
        by_frequency=_by_frequency(customers),
        cumulative=cumulative,
        actual_total=float(customers["actual_holdout"].sum()),
        predicted_total=float(customers["predicted_holdout"].sum()),
    )


def _customer_predictions(
    summary: pd.DataFrame,
    in_cohort: pd.DataFrame,
    cal_end: pd.Timestamp,
    params: BgNbdParams,
    holdout_length: float,
    method: Method,
) -> pd.DataFrame:
    """The calibration summary plus actual and predicted holdout purchases per customer."""
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
    return customers


def _by_frequency(customers: pd.DataFrame) -> pd.DataFrame:
    """Actual vs predicted holdout purchases per calibration-frequency bucket."""
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
    return by_frequency


def _cumulative(
    summary: pd.DataFrame,
    in_cohort: pd.DataFrame,
    hold_end: pd.Timestamp,
    params: BgNbdParams,
    unit_days: float,
    method: Method,
) -> pd.DataFrame:
    """Cumulative repeat occasions by calendar day: actual counts vs a convolution of cohort
    sizes (customers per first-purchase day) with E[X(lag)]."""
    start = summary["first_purchase"].min()
    days = pd.date_range(start, hold_end, freq="D")
    n_days = len(days)
    first_offsets = ((summary["first_purchase"] - start) / _ONE_DAY).round().astype("int64")
    cohort_sizes = np.bincount(first_offsets.to_numpy(), minlength=n_days).astype(float)
    lags = np.arange(n_days, dtype=float) / unit_days
    expected_by_lag = expected_repeat_purchases(params, lags, method=method)
    model = np.convolve(cohort_sizes, expected_by_lag)[:n_days]
    is_repeat = (
        in_cohort["day"].to_numpy()
        != in_cohort["customer"].map(summary["first_purchase"]).to_numpy()
    )
    repeat_days = in_cohort.loc[is_repeat, "day"]
    repeat_offsets = ((repeat_days - start) / _ONE_DAY).round().astype("int64").to_numpy()
    actual_daily = np.bincount(repeat_offsets, minlength=n_days).astype(float)
    return pd.DataFrame(
        {"actual": np.cumsum(actual_daily), "model": model}, index=pd.Index(days, name="day")
    )
