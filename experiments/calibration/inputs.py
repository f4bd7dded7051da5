"""Reading a calibration input (CSV path or DataFrame) with errors that name file and column."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import DataError

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_ROWS",
    "CalibrationInputError",
    "numeric_column",
    "parse_dates",
    "read_table",
    "require_values",
    "source_name",
]

#: Largest CSV a calibration reads (bytes), checked before reading.
MAX_CSV_BYTES = 2 * 2**30

#: Most data rows a calibration reads; a CSV is read no further than one row past it.
MAX_ROWS = 10_000_000

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
        CalibrationInputError: If the file is missing, too large (bytes or rows), empty or
            unreadable, a column is missing, or there are no rows.
    """
    name = source_name(source)
    df = source if isinstance(source, pd.DataFrame) else _read_csv(Path(source), name)
    if len(df) > MAX_ROWS:
        raise CalibrationInputError(
            f"{name}: more than {MAX_ROWS:,} rows; calibrate on a sample or an aggregate"
        )
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
        return pd.read_csv(path, nrows=MAX_ROWS + 1)
    except pd.errors.EmptyDataError:
        raise CalibrationInputError(f"{name}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise CalibrationInputError(f"{name}: not a readable CSV ({exc})") from None


def _row(mask: pd.Series | np.ndarray) -> str:
    """Where the first True of ``mask`` is: ``row N`` (1 = the first data row) and its value."""
    position = int(np.flatnonzero(np.asarray(mask))[0])
    return f"row {position + 1}"


def require_values(df: pd.DataFrame, columns: list[str], name: str) -> None:
    """Check that no value of ``columns`` is missing or blank.

    Raises:
        CalibrationInputError: Naming ``name``, the column, the count and the first bad row.
    """
    for col in columns:
        values = df[col]
        blank = values.isna()
        if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
            blank |= values.astype("string").str.strip().eq("").fillna(False).astype(bool)
        if blank.any():
            raise CalibrationInputError(
                f"{name}: column {col!r} has {int(blank.sum())} missing or empty value(s) "
                f"(first at {_row(blank)}); every transaction needs one"
            )


def numeric_column(df: pd.DataFrame, col: str, name: str) -> pd.Series:
    """Column ``col`` of ``df`` as finite floats.

    Raises:
        CalibrationInputError: If a value is missing, not a number or not finite, naming
            ``name``, the column, the count and the first bad row and value.
    """
    raw = df[col]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = ~np.isfinite(values.to_numpy())
    if bad.any():
        first = raw[bad].iloc[0]
        raise CalibrationInputError(
            f"{name}: column {col!r} must hold numbers: {int(bad.sum())} value(s) are "
            f"missing, not numbers or not finite (first at {_row(bad)}: {_short(first)})"
        )
    return values


def _short(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_dates(df: pd.DataFrame, col: str, fmt: str | None, name: str) -> pd.Series:
    """Column ``col`` of ``df`` as datetimes (strptime format ``fmt``, or inferred).

    Raises:
        CalibrationInputError: If any value is missing or not a date, or the values mix
            time zones (or zone-aware and naive times), naming ``name``, the column, the
            count or rows and the first bad value.
    """
    raw = df[col]
    try:
        with warnings.catch_warnings():  # element-wise fallback parsing is intended without fmt
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.to_datetime(raw, format=fmt, errors="coerce")
    except (ValueError, TypeError, OverflowError):  # pandas refuses mixed UTC offsets
        _refuse_mixed_zones(df, col, fmt, name, range(len(raw)))
        raise CalibrationInputError(f"{name}: column {col!r}: values are not dates") from None
    bad = parsed.isna()
    if bad.any():
        first_bad = int(np.flatnonzero(bad.to_numpy())[0])
        _refuse_mixed_zones(df, col, fmt, name, [first_bad])
        raise CalibrationInputError(
            f"{name}: column {col!r}: {int(bad.sum())} value(s) are not dates"
            + (f" in format {fmt!r}" if fmt else "")
            + f" (first at {_row(bad)}: {_short(raw.iloc[first_bad])})"
        )
    return parsed


def _zone(value: Any, fmt: str | None) -> tuple[bool, Any]:
    """(parsed, zone key) of one date value: its UTC offset or zone name, None when naive."""
    try:
        if isinstance(value, datetime):
            stamp: Any = value
        elif fmt:
            stamp = datetime.strptime(str(value), fmt)
        else:
            stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return False, None
    if stamp is pd.NaT:
        return False, None
    if isinstance(value, datetime) and stamp.tzinfo is not None:
        return True, str(stamp.tzinfo)
    return True, stamp.utcoffset()


def _refuse_mixed_zones(
    df: pd.DataFrame, col: str, fmt: str | None, name: str, suspects: Any
) -> None:
    """Raise if a date in ``suspects`` (positions) parses alone but in another time zone
    than the column's first date; return when the values do not mix zones that way."""
    raw = df[col]
    for first in range(len(raw)):
        ok, first_key = _zone(raw.iloc[first], fmt)
        if ok:
            break
    else:
        return
    for position in suspects:
        ok, key = _zone(raw.iloc[position], fmt)
        if ok and key != first_key:
            raise CalibrationInputError(
                f"{name}: column {col!r} mixes time zones: row {first + 1} "
                f"{_short(raw.iloc[first])} and row {position + 1} "
                f"{_short(raw.iloc[position])}; write every date in one time zone "
                "(or all in UTC)"
            )
