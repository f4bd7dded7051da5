"""Comparison charts: the forest plot of paired differences and outcome distributions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from experiments.report.context import Context
from experiments.report.figures import (
    direction,
    format_axis,
    kpi_label,
    kpi_unit,
    mpl_text,
    new_figure,
    numeric,
    regions_all_first,
    tick,
    to_png,
)
from experiments.report.parts import Chart

# KPIs shown in the forest plot after the primary one (when present in differences.csv)
FOREST_KPIS = (
    "net_profit_base",
    "revenue_base",
    "units",
    "market_share",
    "active_customers",
    "on_time_rate",
    "cac_base",
)
_VERDICT_COLORS = {1: "tab:green", -1: "tab:red", 0: "tab:grey"}


def forest_chart(ctx: Context, diffs: pd.DataFrame) -> list[Chart]:
    """Mean paired difference vs the baseline with its 95% CI, one panel per KPI."""
    primary = str(ctx.summary["primary_kpi"])
    present = set(diffs["kpi"])
    kpis = [k for k in dict.fromkeys([primary, *FOREST_KPIS]) if k in present][:6]
    if not kpis:
        return []
    baseline = str(ctx.summary["baseline"])
    names = [n for n in ctx.order(diffs["variant"]) if n != baseline]
    ncols = min(3, len(kpis))
    nrows = math.ceil(len(kpis) / ncols)
    height = max(2.6, 0.45 * len(names) + 1.6)
    fig = new_figure(4.6 * ncols, height * nrows + 0.9)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    y = np.arange(len(names))[::-1]
    for ax, kpi in zip(axes, kpis, strict=False):
        d = diffs[diffs["kpi"] == kpi].set_index("variant")
        for yi, name in zip(y, names, strict=True):
            if name in d.index:
                _forest_point(ax, d.loc[name], yi, direction(kpi))
        ax.axvline(0.0, color="black", lw=1, ls="--")
        ax.set_yticks(y, [mpl_text(n) for n in names])
        ax.set_ylim(-0.7, len(names) - 0.3)
        star = " (primary)" if kpi == primary else ""
        ax.set_title(f"{kpi_label(kpi)}{star}", fontsize=10)
        unit = kpi_unit(kpi, ctx.currency)
        ax.set_xlabel(f"difference vs baseline ({'percentage points' if unit == '%' else unit})")
        format_axis(ax.xaxis, kpi)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(kpis) :]:
        ax.set_visible(False)
    colors = _VERDICT_COLORS
    handles = [
        Line2D([], [], marker="o", ls="-", color=colors[1], label="better than baseline (95% CI)"),
        Line2D([], [], marker="o", ls="-", color=colors[-1], label="worse than baseline (95% CI)"),
        Line2D([], [], marker="o", ls="-", color=colors[0], label="no clear difference"),
        Line2D([], [], color="black", ls="--", label="no difference (0)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4)
    fig.suptitle(
        f"Paired differences vs baseline {mpl_text(baseline)!r}: mean and 95% CI over "
        f"{ctx.reps_text}",
        fontsize=12,
    )
    return [
        Chart(
            "differences_forest",
            f"Paired differences vs baseline {baseline}",
            "Each dot is a variant's mean difference from the baseline on the same random "
            "numbers and the bar its 95% confidence interval: a bar that does not cross the dashed "
            "zero line is a real difference (green better, red worse).",
            to_png(fig),
        )
    ]


def _forest_point(ax: Any, row: pd.Series, yi: float, sign: float) -> None:
    mean, low, high = (float(row[c]) for c in ("mean", "low", "high"))
    finite = np.isfinite(low) and np.isfinite(high)
    verdict = 0
    if finite and sign and (low > 0 or high < 0):
        verdict = 1 if (low > 0) == (sign > 0) else -1
    color = _VERDICT_COLORS[verdict]
    if finite:
        xerr = [[mean - low], [high - mean]]
        ax.errorbar(mean, yi, xerr=xerr, fmt="o", color=color, capsize=4, ms=6)
    else:
        ax.plot(mean, yi, "o", color=color, ms=6)


def _groups(
    ctx: Context, reps: pd.DataFrame, entity: str, regional: bool
) -> tuple[list[tuple[str, pd.DataFrame]], list[Any], str]:
    """(label, rows) per box, their colours and the x-axis label.

    One variant with several regions: a box per region; otherwise a box per variant
    (region ALL when the table has regions).
    """
    names = ctx.order(reps[entity])
    if not regional:  # entry: one row per option and replication
        return [(n, reps[reps[entity] == n]) for n in names], [ctx.color(n) for n in names], entity
    regions = regions_all_first(reps["region"])
    if len(names) == 1 and len(regions) > 1:
        groups = [(r, reps[reps["region"] == r]) for r in regions]
        return groups, [ctx.color(names[0])] * len(groups), "region"
    data = reps[reps["region"] == "ALL"]
    return [(n, data[data[entity] == n]) for n in names], [ctx.color(n) for n in names], entity


def distribution_chart(
    ctx: Context, reps: pd.DataFrame, column: str, stem: str, what: str, regional: bool = True
) -> list[Chart]:
    """Box + points of per-replication totals per variant (or per region for one variant).

    ``regional``: the table has a ``region`` column (``entry``'s has one row per option and
    replication instead).
    """
    entity = "variant" if regional else "option"
    groups, colors, xlabel = _groups(ctx, reps, entity, regional)
    values = [numeric(g[column]) for _, g in groups]
    keep = [i for i, v in enumerate(values) if np.isfinite(v).any()]
    if not keep:
        return []
    labels = [groups[i][0] for i in keep]
    values = [values[i][np.isfinite(values[i])] for i in keep]
    colors = [colors[i] for i in keep]
    fig = new_figure(max(6.0, 1.1 * len(labels) + 3.0), 4.8)
    ax = fig.subplots()
    pos = np.arange(1, len(labels) + 1)
    box = ax.boxplot(
        values,
        positions=pos,
        widths=0.5,
        showfliers=False,
        patch_artist=True,
        medianprops={"color": "black"},
    )
    for patch, c in zip(box["boxes"], colors, strict=True):
        patch.set_facecolor(c)
        patch.set_alpha(0.3)
    rng = np.random.default_rng(0)
    for p, v, c in zip(pos, values, colors, strict=True):
        ax.scatter(p + rng.uniform(-0.12, 0.12, len(v)), v, s=16, color=c, zorder=3)
        ax.scatter([p], [v.mean()], marker="D", s=50, color="white", edgecolor="black", zorder=4)
    handles = [
        Patch(
            facecolor="grey",
            alpha=0.3,
            edgecolor="black",
            label="middle 50%, median line (whiskers 1.5 IQR)",
        ),
        Line2D([], [], marker="o", ls="", color="grey", label="one replication"),
        Line2D([], [], marker="D", ls="", mfc="white", mec="black", label="mean"),
    ]
    if min(v.min() for v in values) < 0 < max(v.max() for v in values):
        ax.axhline(0.0, color="black", lw=1, ls=":")
        handles.append(Line2D([], [], color="black", ls=":", label="break-even (0)"))
    ax.set_xticks(pos, [mpl_text(x) for x in labels], rotation=30 if len(labels) > 6 else 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{what} ({ctx.currency})")
    ax.yaxis.set_major_formatter(FuncFormatter(tick))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=handles, loc="best", fontsize=8)
    ax.set_title(f"Distribution of {what} across {ctx.reps_text}", fontsize=12)
    return [
        Chart(
            stem,
            f"Distribution of {what}",
            "Each dot is one replication's total and the box holds the middle half of them, so "
            "the spread shows how much the outcome depends on luck and the diamonds compare "
            "the means.",
            to_png(fig),
        )
    ]
