"""`KpiTotals`: the horizon totals of the daily KPI rows, kept without the rows (screening runs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any, Literal

import numpy as np

from sim.errors import UsageError
from sim.kpis import (
    FINITE_IN_ALL_ROW,
    FINITE_IN_REGION_ROWS,
    FLOW_KPIS,
    ratios,
    require_finite,
)

KpiDetail = Literal["daily", "totals"]
#: ``daily``: one KPI row per day and region (the full table); ``totals``: one row per region
#: (and ``ALL``) holding the horizon totals only (what ``experiments.stats.totals`` returns)
KPI_DETAILS: tuple[str, ...] = ("daily", "totals")


def kpi_detail_named(detail: str) -> KpiDetail:
    """``detail`` if it is one of :data:`KPI_DETAILS`, else a UsageError naming them."""
    if detail not in KPI_DETAILS:
        raise UsageError(f"kpi_detail must be one of {list(KPI_DETAILS)}, got {detail!r}")
    return detail  # type: ignore[return-value]


class KpiTotals:
    """Sums each day's flow KPIs per row (regions, then ``ALL``) without keeping the rows.

    The flows of day ``d`` go into column ``d`` of one array per row and KPI, and the horizon
    sums are taken at the end along that contiguous axis: numpy's pairwise summation of a
    contiguous 1-D run of float64, which is what pandas' ``Series.sum`` does on a column of the
    daily table (``experiments.stats.totals``), so the totals are the same to the bit (NaN
    counted as 0, all-NaN giving NaN, as ``sum(min_count=1)``). Stock KPIs (the last day's
    value) and the horizon KPIs come from the rows of the horizon day, the only day whose
    full rows are built; ratios are recomputed from the summed flows, as ``totals`` does.

    Every day's flows are still checked to be finite where the daily table requires it
    (:func:`sim.kpis.require_finite`), so a scenario that overflows fails the same way.

    Args:
        n_rows: rows per day (regions + 1).
        days: the horizon in days.
        scenario_name: names the scenario in an overflow error.
    """

    def __init__(self, n_rows: int, days: int, scenario_name: str) -> None:
        self._flows = np.full((days, n_rows, len(FLOW_KPIS)), np.nan)
        self._cells = itemgetter(*FLOW_KPIS)
        self._n_days = 0
        self._name = scenario_name
        region = np.isin(FLOW_KPIS, FINITE_IN_REGION_ROWS)
        self._finite = np.vstack(
            [np.tile(region, (n_rows - 1, 1)), np.isin(FLOW_KPIS, FINITE_IN_ALL_ROW)]
        )
        self._last_rows: list[dict[str, Any]] = []

    def add(self, d: int, rows: Sequence[Mapping[str, Any]]) -> None:
        """Add day ``d``'s rows (each holding at least every flow KPI)."""
        day = self._flows[d]
        for i, row in enumerate(rows):
            day[i] = self._cells(row)
        if not np.isfinite(day[self._finite]).all():
            for i, row in enumerate(rows):
                names = [k for k, ok in zip(FLOW_KPIS, self._finite[i], strict=True) if ok]
                require_finite(row, self._name, names)
        self._n_days = d + 1

    def keep_last(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Keep the horizon day's full rows (stocks and horizon KPIs)."""
        self._last_rows = [dict(row) for row in rows]

    def rows(self) -> list[dict[str, Any]]:
        """One row per region and ``ALL``: flows summed over the days, stocks of the horizon
        day, ratios of the summed flows.

        Raises:
            UsageError: the run has not reached its horizon (the stocks are taken there).
        """
        if not self._last_rows:
            raise UsageError(
                "kpi_detail='totals' keeps the horizon totals only: run the model to its horizon"
            )
        flows = np.ascontiguousarray(self._flows[: self._n_days].transpose(1, 2, 0))
        missing = np.isnan(flows)
        sums = np.where(missing, 0.0, flows).sum(axis=-1)
        sums[missing.all(axis=-1)] = np.nan
        out = []
        for row, totals in zip(self._last_rows, sums, strict=True):
            total = dict(row)
            total.update(zip(FLOW_KPIS, totals.tolist(), strict=True))
            total.update(ratios(total))
            out.append(total)
        return out
