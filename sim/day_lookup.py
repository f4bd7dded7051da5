"""``searchsorted`` into the seasonal operational-time axis by a bucket table: the same positions.

A population's next occasions are drawn in operational time ``tau`` (cumulative seasonal
intensity) and mapped back to days by ``cumulative.searchsorted(tau, side="right")``: a
binary search per consumer, about 0.6 ms for a round of 12,000 consumers at 10^6. The axis
is fixed for the run and its steps are at least ``gap`` apart (the smallest seasonal
factor), so a table of cells half a gap wide answers each search by one cell look-up and two
comparisons: the cell one below ``tau``'s starts at most a gap below it, and at most two
steps of the axis can lie between that start and ``tau``. The comparisons are exact, so the
positions are those of the search (``tests/test_day_lookup.py``).
"""

from __future__ import annotations

import numpy as np

#: cells beyond which the table is not built (a seasonal factor near zero): the search runs
MAX_CELLS = 1 << 16


class PositionLookup:
    """``cumulative.searchsorted(tau, side="right")`` for ``tau >= cumulative[0]`` (and
    ``inf`` and NaN, which count every step as the search does)."""

    def __init__(self, cumulative: np.ndarray) -> None:
        self.cumulative = np.asarray(cumulative, dtype=np.float64)
        c = self.cumulative
        self._lo: np.ndarray | None = None
        gaps = np.diff(c)
        if len(c) < 2 or not bool((gaps > 0).all()) or not np.isfinite(c).all():
            return
        width = float(gaps.min()) / 2.0
        span = float(c[-1] - c[0])
        cells = int(np.ceil(span / width)) + 4  # two cells beyond the last step, and margin
        if cells > MAX_CELLS:
            return
        self._origin = np.array(c[0])
        self._inverse = np.array(1.0 / width)
        self._top = np.array(float(cells - 1))
        starts = c[0] + np.arange(cells) * width
        lo = c.searchsorted(starts, side="right")  # steps at or below each cell's start
        padded = np.concatenate([c, [np.nan, np.nan]])  # NaN: never at or below tau
        self._lo = lo
        self._first = padded[lo]  # the next two steps after each cell's start
        self._second = padded[lo + 1]

    def __call__(self, tau: np.ndarray) -> np.ndarray:
        """The search's positions (int64) of ``tau``."""
        if self._lo is None:
            return self.cumulative.searchsorted(tau, side="right")
        cell = tau - self._origin
        cell *= self._inverse
        cell -= 1.0  # the cell below: its start is at or below tau, whatever the rounding
        np.fmin(cell, self._top, out=cell)  # beyond the axis (and inf, NaN): the last cell
        np.fmax(cell, 0.0, out=cell)
        k = cell.astype(np.intp)
        pos = self._lo.take(k)
        pos += self._first.take(k) <= tau
        pos += self._second.take(k) <= tau
        return pos
