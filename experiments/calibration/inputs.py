"""Reading a calibration input (CSV path or DataFrame) with errors that name file and column."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from sim.errors import DataError

__all__ = ["MAX_CSV_BYTES", "CalibrationInputError", "parse_dates", "read_table", "source_name"]

#: Largest CSV a calibration reads (bytes).
MAX_CSV_BYTES = 2 * 2**30

#: A calibration source: the path of a CSV file, or a DataFrame already in memory.
Source = str | Path | pd.DataFrame


class CalibrationInputError(DataError):
    """The input data cannot be calibrated; the message names the file and column and says why."""


def source_name(source: Source) -> str:
    """How messages and ``fit.json`` name ``source``: the path as given, or ``<DataFrame>``."""
    return "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)


def read_table(source: Source, needed: list[str]) -> pd.DataFrame:
    """Load ``source`` and check it is non-empty and has every column in ``needed``.

    Args:
        source: CSV path (read with ``pd.read_csv``) or a DataFrame (used as is, not copied).
        needed: Columns the calibration uses.

    Raises:
        CalibrationInputError: If the file is missing, too large, empty or unreadable, a
            column is missing, or there are no rows.
    """
    name = source_name(source)
    df = source if isinstance(source, pd.DataFrame) else _read_csv(Path(source), name)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise CalibrationInputError(
            f"{name}: missing column(s) {missing}; found {list(map(str, df.columns))}"
        )
    if df.empty:
        raise CalibrationInputError(f"{name}: no rows")
    return df


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    if not path.is_file():
        raise CalibrationInputError(f"{name}: file not found")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise CalibrationInputError(f"{name}: larger than {MAX_CSV_BYTES:,} bytes")
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CalibrationInputError(f"{name}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CalibrationInputError(f"{name}: not a readable CSV ({exc})") from None


def parse_dates(df: pd.DataFrame, col: str, fmt: str | None, name: str) -> pd.Series:
    """Column ``col`` of ``df`` as datetimes (strptime format ``fmt``, or inferred).

    Raises:
        CalibrationInputError: If any value is missing or not a date, naming ``name``,
            the column, the count and the first bad value.
    """
    raw = df[col]
    with warnings.catch_warnings():  # element-wise fallback parsing is intended without fmt
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(raw, format=fmt, errors="coerce")
    if parsed.isna().any():
        first = raw[parsed.isna()].iloc[0]
        n = int(parsed.isna().sum())
        raise CalibrationInputError(
            f"{name}: column {col!r}: {n} value(s) are not dates"
            + (f" in format {fmt!r}" if fmt else "")
            + f" (first: {first!r})"
        )
    return parsed
