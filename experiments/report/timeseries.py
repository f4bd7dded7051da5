"""KPI time-series charts: one figure per region, one panel per KPI, a line per variant."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from experiments.report.context import Context
from experiments.report.figures import (
    base_kpi,
    format_axis,
    kpi_label,
    kpi_unit,
    mpl_text,
    new_figure,
    numeric,
    regions_all_first,
    safe_name,
    to_png,
)
from experiments.report.parts import Chart

# (timeseries kpi, panel title) -- drawn when present in timeseries.csv
TS_PANELS = (
    ("net_profit_base_cumulative", "Cumulative net profit"),
    ("revenue_base_cumulative", "Cumulative revenue"),
    ("units_cumulative", "Cumulative units sold"),
    ("market_share", "Market share (our units / all units)"),
    ("active_customers", "Active customers"),
    ("aware_share", "Share of consumers aware of us"),
)


def timeseries_charts(
    ctx: Context, ts: pd.DataFrame, entity: str, band: bool = True
) -> list[Chart]:
    """One chart per region from a ``timeseries.csv`` layout (``entity`` names the lines).

    ``band``: the table has ``low``/``high`` columns (False for one replication).
    """
    panels = [(k, title) for k, title in TS_PANELS if k in set(ts["kpi"])]
    if not panels:
        return []
    names = ctx.order(ts[entity])
    return [
        _region_chart(ctx, ts[ts["region"] == region], region, panels, names, entity, band)
        for region in regions_all_first(ts["region"])
    ]


def _region_chart(
    ctx: Context,
    data: pd.DataFrame,
    region: str,
    panels: list[tuple[str, str]],
    names: list[str],
    entity: str,
    band: bool,
) -> Chart:
    ncols = 3 if len(panels) > 4 else 2
    nrows = math.ceil(len(panels) / ncols)
    fig = new_figure(5.2 * ncols, 3.4 * nrows + 0.8)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    any_band = False
    for ax, (kpi, title) in zip(axes, panels, strict=False):
        part = data[data["kpi"] == kpi]
        for name in names:
            any_band |= _draw_line(
                ctx, ax, part[part[entity] == name].sort_values("day"), name, band
            )
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("day of simulation")
        ax.set_ylabel(f"{kpi_label(kpi)} ({kpi_unit(kpi, ctx.currency)})")
        format_axis(ax.yaxis, kpi)
        ax.grid(alpha=0.3)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    handles: list[Any] = [
        Line2D([], [], color=ctx.color(n), lw=2, label=mpl_text(n)) for n in names
    ]
    if any_band:
        handles.append(Patch(color="grey", alpha=0.3, label="5-95% band across replications"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6))
    what = f", band: 5-95% of {ctx.reps_text}" if any_band else ""
    fig.suptitle(f"KPI time series, region {mpl_text(region)} (line: mean{what})", fontsize=12)
    return Chart(
        f"timeseries_{safe_name(region)}",
        f"KPI time series, region {region}",
        "Each line is the mean path of one variant over the simulated days and the shaded "
        "band holds 90% of the replications, so lines whose bands barely overlap differ "
        "reliably.",
        to_png(fig),
    )


def _draw_line(ctx: Context, ax: Any, g: pd.DataFrame, name: str, band: bool) -> bool:
    """Draw one mean path (and its band when the table has one); True when a band shows."""
    if g.empty:
        return False
    day, mean = numeric(g["day"]), numeric(g["mean"])
    ax.plot(day, mean, color=ctx.color(name), lw=1.6)
    if not band:
        return False
    low, high = numeric(g["low"]), numeric(g["high"])
    if np.nanmax(np.abs(high - low), initial=0.0) <= 0:
        return False
    ax.fill_between(day, low, high, color=ctx.color(name), alpha=0.18, lw=0)
    return True


def single_run_timeseries(kpis: pd.DataFrame, name: str) -> pd.DataFrame:
    """A one-replication ``kpis.csv`` in the ``timeseries.csv`` layout (no band)."""
    rows = []
    for region, g in kpis.groupby("region", sort=False):
        g = g.sort_values("day")
        for kpi, _title in TS_PANELS:
            values = numeric(g[base_kpi(kpi)])
            if kpi.endswith("_cumulative"):
                values = np.nancumsum(values)
            rows.append(
                pd.DataFrame(
                    {
                        "variant": name,
                        "region": str(region),
                        "kpi": kpi,
                        "day": g["day"].to_numpy(),
                        "mean": values,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
