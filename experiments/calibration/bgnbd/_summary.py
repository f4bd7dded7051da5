"""From a transaction log to the BG/NBD sufficient statistics per customer (x, t_x, T)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from experiments.calibration.bgnbd._params import period_days


def purchase_occasions(
    df: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None
) -> pd.DataFrame:
    """Collapse a transaction log to purchase occasions (one row per customer and day).

    Args:
        df: Transaction log, one row per transaction.
        customer_col: Column identifying the customer.
        date_col: Column of transaction datetimes.
        amount_col: Optional column of transaction amounts (summed per occasion).

    Returns:
        A frame with columns ``customer``, ``day`` (the calendar day) and ``amount`` (0.0
        without ``amount_col``), sorted by customer and day.

    Raises:
        KeyError: If a named column is missing.
        TypeError: If ``date_col`` is not a datetime column.
        ValueError: On missing values or non-numeric amounts (the column is named).
    """
    missing = [c for c in (customer_col, date_col, amount_col) if c is not None and c not in df]
    if missing:
        raise KeyError(f"transaction log has no column(s) {missing}; columns: {list(df.columns)}")
    dates = df[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        raise TypeError(
            f"column {date_col!r} must hold datetimes (dtype {dates.dtype}); parse it first"
        )
    for col in (customer_col, date_col):
        n_missing = int(df[col].isna().sum())
        if n_missing:
            raise ValueError(f"column {col!r} has {n_missing} missing value(s)")
    frame = pd.DataFrame({"customer": df[customer_col], "day": dates.dt.normalize()})
    frame["amount"] = 0.0 if amount_col is None else _amounts(df, amount_col)
    grouped = frame.groupby(["customer", "day"], sort=True, observed=True)["amount"].sum()
    return grouped.reset_index()


def _amounts(df: pd.DataFrame, amount_col: str) -> pd.Series:
    try:
        amounts = pd.to_numeric(df[amount_col], errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"column {amount_col!r} must hold numbers ({exc})") from None
    n_missing = int(amounts.isna().sum())
    if n_missing:
        raise ValueError(f"column {amount_col!r} has {n_missing} missing value(s)")
    return amounts


def end_day(occasions: pd.DataFrame, end: Any) -> pd.Timestamp:
    """The calendar day of ``end``, or the last purchase day of ``occasions`` when None."""
    if end is None:
        return pd.Timestamp(occasions["day"].max())
    return pd.Timestamp(end).normalize()


def summarize_occasions(
    occasions: pd.DataFrame, last_day: pd.Timestamp, unit_days: float, with_monetary: bool
) -> pd.DataFrame:
    """Per-customer ``frequency``, ``recency``, ``T`` (and ``monetary``) up to ``last_day``.

    Args:
        occasions: Output of :func:`purchase_occasions`.
        last_day: Last calendar day of the calibration window.
        unit_days: Length of the time unit of ``recency`` and ``T``, in days.
        with_monetary: Whether to add ``monetary`` (mean amount per occasion).

    Returns:
        The summary indexed by customer, with a ``first_purchase`` day column.
    """
    calibration = occasions[occasions["day"] <= last_day]
    grouped = calibration.groupby("customer", sort=True, observed=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    unit = pd.Timedelta(days=1) * unit_days
    summary = pd.DataFrame(
        {
            "frequency": (grouped.size() - 1).astype("int64"),
            "recency": ((last - first) / unit).astype(float),
            "T": ((last_day - first) / unit).astype(float),
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
    unit_days = period_days(period)
    occasions = purchase_occasions(df, customer_col, date_col, amount_col)
    last_day = end_day(occasions, calibration_end)
    summary = summarize_occasions(occasions, last_day, unit_days, amount_col is not None)
    summary.index.name = customer_col
    return summary
