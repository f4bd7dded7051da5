"""Simulation calendar: hours per day, 365-day years of 12 calendar months, the horizon limit."""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    DayT = TypeVar("DayT", int, np.ndarray)
else:
    DayT = TypeVar("DayT")

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365
#: the average month (prorating monthly amounts per day); calendar months are below
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
#: lengths of the 12 calendar months of a 365-day year (January first)
MONTH_LENGTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: first day (within the year) of each calendar month, and the day after each month ends
MONTH_START_DAYS = (0, *accumulate(MONTH_LENGTH_DAYS[:-1]))
_MONTH_ENDS = tuple(accumulate(MONTH_LENGTH_DAYS))
#: the longest horizon a scenario, a run or a CLI flag may ask for (ten 365-day years)
MAX_HORIZON_DAYS = 3650


def month_of_day(day: DayT) -> DayT:
    """Calendar month index (0-11) of a simulation day (day 0 = 1 January, 365-day years).

    Works on an int or elementwise on an integer array (month lengths 31, 28, 31, ...).
    """
    if isinstance(day, np.ndarray):
        return np.searchsorted(_MONTH_ENDS, day % DAYS_PER_YEAR, side="right")
    return bisect_right(_MONTH_ENDS, int(day) % DAYS_PER_YEAR)


def calendar_month(day: DayT) -> DayT:
    """Months since day 0 (0-based, 12 per 365-day year) of a day or an array of days.

    Example: day 364 is month 11, day 365 is month 12 (January of the second year).
    """
    return (day // DAYS_PER_YEAR) * 12 + month_of_day(day)


def month_start_day(month: int) -> int:
    """First simulation day of calendar month ``month`` (0-based, counting across years)."""
    if month < 0:
        raise ValueError(f"month must be >= 0, got {month}")
    return (month // 12) * DAYS_PER_YEAR + MONTH_START_DAYS[month % 12]
