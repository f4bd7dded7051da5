"""Calibrate BG/NBD repeat purchasing from a transaction log: one function, one result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from experiments.calibration.bgnbd import (
    PERIOD_DAYS,
    BgNbdFit,
    BgNbdParams,
    HoldoutResult,
    fit_bgnbd,
    holdout_check,
    plot_cumulative,
    summarize_transactions,
    to_scenario_fragment,
)
from experiments.calibration.inputs import (
    CalibrationInputError,
    Source,
    numeric_column,
    parse_dates,
    read_table,
    require_values,
    source_name,
)
from experiments.results import safe_path, write_csv, write_json, write_text
from sim.errors import UsageError

__all__ = ["TransactionsCalibration", "calibrate_transactions"]


@dataclass(frozen=True, eq=False)
class TransactionsCalibration:
    """A BG/NBD fit to a transaction log, with its holdout check when there is a holdout.

    Attributes:
        source: The CSV path as given, or ``"<DataFrame>"``.
        period: Time unit of the fit (``"D"`` or ``"W"``).
        calibration_end: Last day of the calibration window (None: the whole log).
        summary: Per-customer ``frequency``, ``recency``, ``T`` (and ``monetary``) used in the fit.
        fit: Parameters (r, alpha, a, b), standard errors, log-likelihood and convergence.
        holdout: Predictions against the log after ``calibration_end`` (None without one).
        scenario_fragment: ``{"repeat": {"r", "alpha_days", "a", "b"}}`` for a scenario file.
    """

    source: str
    period: str
    calibration_end: pd.Timestamp | None
    summary: pd.DataFrame
    fit: BgNbdFit
    holdout: HoldoutResult | None
    scenario_fragment: dict[str, dict[str, float]]

    @property
    def params(self) -> BgNbdParams:
        """The fitted parameters (``alpha`` in ``period`` units)."""
        return self.fit.params

    @property
    def n_repeat_buyers(self) -> int:
        """Customers with at least one repeat purchase in the calibration window."""
        return int((self.summary["frequency"] > 0).sum())

    @property
    def holdout_by_frequency(self) -> pd.DataFrame | None:
        """Holdout actual vs predicted by calibration frequency (None without a holdout)."""
        return None if self.holdout is None else self.holdout.by_frequency

    @property
    def cumulative(self) -> pd.DataFrame | None:
        """Daily cumulative repeat purchases, actual and model (None without a holdout)."""
        return None if self.holdout is None else self.holdout.cumulative

    def to_dict(self) -> dict[str, Any]:
        """The content of ``fit.json``."""
        fit, end = self.fit, self.calibration_end
        result: dict[str, Any] = {
            "file": self.source,
            "period": self.period,
            "period_days": PERIOD_DAYS[self.period],
            "n_customers": fit.n_customers,
            "n_repeat_buyers": self.n_repeat_buyers,
            "params": {
                "r": fit.params.r,
                "alpha": fit.params.alpha,
                "a": fit.params.a,
                "b": fit.params.b,
            },
            "standard_errors": fit.standard_errors,
            "log_likelihood": fit.log_likelihood,
            "converged": fit.converged,
            "message": fit.message,
            "calibration_end": str(end.date()) if end is not None else None,
        }
        if self.holdout is not None:
            result["holdout"] = {
                "holdout_end": str(self.holdout.holdout_end),
                "actual_repeat_purchases": float(self.holdout.actual_total),
                "predicted_repeat_purchases": float(self.holdout.predicted_total),
            }
        return result

    def fragment_yaml(self) -> str:
        """The text of ``repeat_fragment.yaml``: a commented ``repeat:`` block."""
        return (
            "# BG/NBD fit from " + Path(self.source).name + "; paste under a region (or segment).\n"
            "# rate ~ Gamma(r, alpha_days) per day, dropout after each purchase ~ Beta(a, b)\n"
            + yaml.safe_dump(self.scenario_fragment, sort_keys=False)
        )

    def write(self, out: str | Path) -> list[Path]:
        """Write ``fit.json``, ``repeat_fragment.yaml`` and, with a holdout,
        ``holdout_by_frequency.csv``, ``cumulative.csv`` and ``cumulative.png`` under ``out``.

        Returns:
            The files written.

        Raises:
            CalibrationInputError: If the fit did not converge (nothing is written).
        """
        if not self.fit.converged:
            _require_converged(self.fit, self.summary, self.source)
        written: list[Path] = []
        if self.holdout is not None:
            written.append(
                write_csv(out, "holdout_by_frequency.csv", self.holdout.by_frequency.reset_index())
            )
            written.append(write_csv(out, "cumulative.csv", self.holdout.cumulative.reset_index()))
            written.append(plot_cumulative(self.holdout, safe_path(out, "cumulative.png")))
        written.append(write_json(out, "fit.json", self.to_dict()))
        written.append(write_text(out, "repeat_fragment.yaml", self.fragment_yaml()))
        return written


def calibrate_transactions(
    source: Source,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    date_format: str | None = None,
    calibration_end: str | date | None = None,
    period: str = "W",
) -> TransactionsCalibration:
    """Fit BG/NBD to a transaction log, with a holdout check when the log extends past the end.

    Transactions are grouped into purchase occasions by calendar day. Nothing is written:
    call :meth:`TransactionsCalibration.write` for the files ``marketsim calibrate
    transactions`` writes.

    Args:
        source: CSV path (one row per transaction) or a DataFrame.
        customer_col: Column identifying the customer.
        date_col: Column of transaction dates (parsed with ``date_format``, or inferred).
        amount_col: Optional column of transaction amounts (adds ``monetary`` to the summary).
        date_format: strptime format of ``date_col``, e.g. ``"%Y-%m-%d"``.
        calibration_end: Last day of the calibration window (default: the whole log); the log
            after it is the holdout.
        period: Time unit of the fit: ``"D"`` (days) or ``"W"`` (weeks).

    Returns:
        The fit, the holdout check (if any) and the scenario fragment.

    Raises:
        UsageError: If ``period`` or ``calibration_end`` is invalid.
        CalibrationInputError: If the data cannot be calibrated (names file, column and first
            bad row), or the fit does not converge (says why and what data would help).
    """
    if period not in PERIOD_DAYS:
        raise UsageError(f"`period` must be one of {sorted(PERIOD_DAYS)}, got {period!r}")
    end = _timestamp_or_none(calibration_end)
    name = source_name(source)
    amount_col = amount_col or None
    df = read_table(source, [customer_col, date_col] + ([amount_col] if amount_col else []))
    require_values(df, [customer_col, date_col], name)
    dates = parse_dates(df, date_col, date_format, name)
    df = df.assign(**{date_col: dates})
    if amount_col:
        df = df.assign(**{amount_col: numeric_column(df, amount_col, name)})
    end = _same_time_zone(end, dates, f"{name}: column {date_col!r}")
    try:
        summary = summarize_transactions(
            df, customer_col, date_col, amount_col, calibration_end=end, period=period
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationInputError(f"{name}: {exc}") from None
    if summary.empty:
        raise CalibrationInputError(f"{name}: no customer purchases before the calibration end")
    if not (summary["frequency"] > 0).any():
        raise CalibrationInputError(
            f"{name}: no repeat buyers (every customer bought on one day only); "
            "BG/NBD needs repeat purchases"
        )
    fit = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    _require_converged(fit, summary, name)
    holdout = None
    if end is not None and dates.max().normalize() > end.normalize():
        holdout = holdout_check(df, customer_col, date_col, end, period=period, params=fit.params)
    return TransactionsCalibration(
        source=name,
        period=period,
        calibration_end=end,
        summary=summary,
        fit=fit,
        holdout=holdout,
        scenario_fragment={"repeat": to_scenario_fragment(fit.params, period)},
    )


def _require_converged(fit: BgNbdFit, summary: pd.DataFrame, name: str) -> None:
    """Raise unless ``fit`` converged, saying why and what data would help."""
    if fit.converged:
        return
    repeaters = int((summary["frequency"] > 0).sum())
    raise CalibrationInputError(
        f"{name}: the BG/NBD fit did not converge: {'; '.join(fit.problems)}. "
        f"With {fit.n_customers:,} customer(s), {repeaters:,} of them repeat buyers, the data "
        "do not identify purchase-rate heterogeneity and dropout; more customers (hundreds), "
        "more repeat buyers or a longer calibration window would help. Nothing was written."
    )


def _same_time_zone(end: pd.Timestamp | None, dates: pd.Series, where: str) -> pd.Timestamp | None:
    """``end`` in the time zone of ``dates`` (a naive end is taken as local to the log)."""
    if end is None or (end.tzinfo is None) == (dates.dt.tz is None):
        return end
    if end.tzinfo is None:
        return end.tz_localize(dates.dt.tz)
    raise UsageError(f"`calibration_end` {end} has a time zone but {where} has none")


def _timestamp_or_none(value: str | date | None) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise UsageError(f"`calibration_end` must be a date, got {value!r}")
    return stamp
