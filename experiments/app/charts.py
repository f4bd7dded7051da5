"""The app's charts as PNG bytes: KPI bands per region and P&L waterfalls per region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from experiments.report.figures import (
    format_axis,
    kpi_label,
    kpi_unit,
    mpl_text,
    new_figure,
    regions_all_first,
    tick,
    to_png,
)


def timeseries_png(ts: pd.DataFrame, kpi: str, currency: str) -> bytes:
    """One panel per region: each variant's daily mean with its 5-95% band."""
    data = ts[ts["kpi"] == kpi]
    regions = regions_all_first(data["region"])
    fig = new_figure(4.2 * max(1, min(len(regions), 4)), 3.4)
    axes = fig.subplots(1, max(1, len(regions)), squeeze=False).ravel()
    unit = kpi_unit(kpi, currency)
    for ax, region in zip(axes, regions, strict=False):
        for i, (variant, g) in enumerate(data[data["region"] == region].groupby("variant")):
            g = g.sort_values("day")
            color = f"C{i}"
            ax.plot(g["day"], g["mean"], color=color, label=mpl_text(variant))
            ax.fill_between(g["day"], g["low"], g["high"], color=color, alpha=0.2, lw=0)
        ax.set_title(mpl_text(f"{region}"), fontsize=10)
        ax.set_xlabel("day")
        format_axis(ax.yaxis, kpi)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"{kpi_label(kpi)} ({unit})" if unit else kpi_label(kpi))
    axes[0].legend(fontsize=8, title="mean, 5-95% band", title_fontsize=8)
    return to_png(fig)


def waterfall_png(
    steps_by_region: Mapping[str, Sequence[tuple[str, float]]], currency: str
) -> bytes:
    """A P&L waterfall per region: revenue, each cost, gross and net profit (totals as bars
    from zero, steps as floating bars)."""
    regions = list(steps_by_region)
    fig = new_figure(5.0 * max(1, min(len(regions), 3)), 4.0)
    axes = fig.subplots(1, max(1, len(regions)), squeeze=False, sharey=True).ravel()
    for ax, region in zip(axes, regions, strict=False):
        steps = list(steps_by_region[region])
        level, bottoms, heights, colors = 0.0, [], [], []
        for label, value in steps:
            if label in ("gross profit", "net profit"):
                bottoms.append(0.0)
                heights.append(value)
                colors.append("tab:blue")
                level = value
                continue
            bottoms.append(level if value >= 0 else level + value)
            heights.append(abs(value))
            colors.append("tab:green" if value >= 0 else "tab:red")
            level += value
        x = np.arange(len(steps))
        ax.bar(x, heights, bottom=bottoms, color=colors)
        ax.set_xticks(x, [s[0] for s in steps], rotation=60, ha="right", fontsize=8)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(mpl_text(region), fontsize=10)
        ax.yaxis.set_major_formatter(FuncFormatter(tick))
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel(f"mean over replications ({currency})")
    return to_png(fig)
