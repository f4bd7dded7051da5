"""Report tables: number formats, declared headers, KPI row selection and the metadata block."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from experiments.outputs import Table, kpi_column
from experiments.report.context import Context
from experiments.report.parts import HtmlTable
from sim.kpis import KPI_BY_NAME

MAX_TABLE_ROWS = 60
TABLE_KPIS = (
    "net_profit_base",
    "revenue_base",
    "gross_profit_base",
    "units",
    "market_share",
    "customers",
    "active_customers",
    "on_time_rate",
    "fill_rate",
    "cac_base",
)
# summary keys shown in the first meta rows (or not at all), not again in the generic rows
_SHOWN = {
    "command",
    "scenario",
    "scenarios",
    "reps",
    "primary_kpi",
    "objective",
    "objectives",
    "baseline",
    "currency",
    "metric_names",
    "search_space",
    "importance_skipped",
}


def fmt_number(value: float) -> str:
    """A number for a table cell: thousands separators, 4 significant digits when small."""
    if not np.isfinite(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def cell(value: Any) -> str:
    """One table cell as text."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return fmt_number(float(value))
    return "-" if value is None or value is pd.NA else str(value)


def html_table(
    caption: str,
    frame: pd.DataFrame | None,
    declared: Table | None = None,
    currency: str = "base currency",
    max_rows: int = MAX_TABLE_ROWS,
) -> HtmlTable:
    """A table with readable headers for declared columns (others keep their names)."""
    if frame is None or frame.empty:
        return HtmlTable(caption, [], [])
    plain = {c.name for c in declared.fixed} if declared is not None else set()
    headers = [
        declared.header(c, currency)
        if declared is not None and c in plain
        else column_label(str(c), currency)
        for c in frame.columns
    ]
    if "kpi" in frame.columns:
        frame = frame.assign(kpi=[kpi_with_unit(str(k), currency) for k in frame["kpi"]])
    shown = frame.head(max_rows).astype(object).where(frame.head(max_rows).notna(), None)
    rows = [[cell(v) for v in row] for row in shown.itertuples(index=False)]
    note = (
        f"first {max_rows} of {len(frame)} rows; see the CSV file" if len(frame) > max_rows else ""
    )
    return HtmlTable(caption, headers, rows, note)


def kpi_with_unit(name: str, currency: str) -> str:
    """A KPI name as a reader sees it: ``net profit (USD)``; unknown names stay as they are."""
    if name not in KPI_BY_NAME:
        return name
    col = kpi_column(KPI_BY_NAME[name])
    unit = {"currency": currency}.get(col.unit, col.unit)
    return f"{col.label} ({unit})" if unit else col.label


def column_label(name: str, currency: str) -> str:
    """A header for a column no table declares: a KPI with its unit, else spaced words."""
    return kpi_with_unit(name, currency) if name in KPI_BY_NAME else name.replace("_", " ")


def kpi_rows(frame: pd.DataFrame | None, kpis: Sequence[str]) -> pd.DataFrame | None:
    """Rows of a tidy (``kpi`` column) table for these KPIs, in this order per variant/region."""
    if frame is None:
        return None
    part = frame[frame["kpi"].isin(kpis)].copy()
    part["_o"] = part["kpi"].map({k: i for i, k in enumerate(kpis)})
    sort = [c for c in ("variant", "region") if c in part.columns]
    return part.sort_values([*sort, "_o"], kind="stable").drop(columns="_o")


def meta_value(value: Any) -> str:
    """A summary value as text."""
    if isinstance(value, float):
        return fmt_number(value)
    return "-" if value is None else str(value)


def meta_rows(ctx: Context, objectives: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The block under the title: command, scenario, dates, then every small summary value."""
    s = ctx.summary
    scenario = s.get("scenario") or s.get("scenarios") or "-"
    if isinstance(scenario, list):
        scenario = ", ".join(
            str(x.get("name") or x.get("file") if isinstance(x, dict) else x) for x in scenario
        )
    created = ctx.manifest.get("created") or "-"
    updated = ctx.manifest.get("updated") or ""
    primary = s.get("primary_kpi") or s.get("objective") or "-"
    if objectives:
        primary = ", ".join(f"{k} ({d})" if d else k for k, d in objectives)
    rows = [
        ("command", f"marketsim {ctx.command}"),
        ("scenario", str(scenario)),
        ("results from", f"{created}" + (f" (last update {updated})" if updated else "")),
        ("report generated", datetime.now(UTC).isoformat(timespec="seconds")),
        ("replications", str(s.get("reps", "-"))),
        ("primary KPI / objective", str(primary)),
        ("baseline", _baseline_text(s.get("baseline"))),
        ("amounts in", ctx.currency),
    ]
    return rows + [
        row for key, value in s.items() if key not in _SHOWN for row in _meta(key, value)
    ]


def _meta(key: str, value: Any) -> list[tuple[str, str]]:
    """A summary entry as a meta row when it is small and plain (else none)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return [(key, meta_value(value))]
    if (
        isinstance(value, list)
        and len(value) <= 12
        and all(isinstance(v, str | int | float | bool) for v in value)
    ):
        return [(key, ", ".join(meta_value(v) for v in value))]
    if (
        isinstance(value, dict)
        and 0 < len(value) <= 12
        and all(isinstance(v, str | int | float | bool) or v is None for v in value.values())
    ):
        return [(key, "; ".join(f"{k}: {meta_value(v)}" for k, v in value.items()))]
    return []


def _baseline_text(baseline: Any) -> str:
    if isinstance(baseline, dict):  # tune: the trial with the scenario's own strategies
        values = baseline.get("values")
        shown = (
            ", ".join(meta_value(v) for v in values.values()) if isinstance(values, dict) else ""
        )
        return (
            f"trial {baseline.get('number')} ({baseline.get('state', '')}), the scenario's own "
            f"strategies" + (f": {shown}" if shown else "")
        )
    return str(baseline or "-")
