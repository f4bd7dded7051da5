"""Simulation calendar: hours per day, days per month, the horizon limit and month of a day."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import numpy as np

    DayT = TypeVar("DayT", int, np.ndarray)
else:
    DayT = TypeVar("DayT")

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
#: the longest horizon a scenario, a run or a CLI flag may ask for (ten 365-day years)
MAX_HORIZON_DAYS = 3650


def month_of_day(day: DayT) -> DayT:
    """Calendar month index (0-11) of a simulation day (day 0 = 1 January, 365-day years).

    Works on an int or elementwise on an integer array; imports nothing heavy, so the CLI
    can use this module's constants at start-up.
    """
    return (day % DAYS_PER_YEAR) * 12 // DAYS_PER_YEAR
