"""Calendar constants: hours per day, days per month, the longest horizon a run may have."""

from __future__ import annotations

HOURS_PER_DAY = 24.0
DAYS_PER_MONTH = 365.0 / 12.0
MAX_HORIZON_DAYS = 3650
