"""The ``entry`` report: risk vs return of the entry options, outcome distributions, paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from experiments.report.context import Context
from experiments.report.differences import distribution_chart
from experiments.report.figures import mpl_text, new_figure, tick, to_png
from experiments.report.parts import Chart, Section
from experiments.report.tables import html_table
from experiments.report.timeseries import timeseries_charts

_METRICS = ["option", "npv_mean", "npv_low", "npv_high", "npv_sd", "p_loss", "cvar5_profit", "rank"]


def _risks(currency: str) -> list[tuple[str, str, bool]]:
    """(column of the metrics table, x-axis label, is a probability)."""
    return [
        ("cvar_loss", f"5% CVaR loss: -(mean of worst 5% profits) ({currency})", False),
        ("p_loss", "probability of loss (%)", True),
        ("npv_sd", f"standard deviation of NPV across replications ({currency})", False),
    ]


def risk_return_chart(ctx: Context, options: pd.DataFrame) -> list[Chart]:
    """NPV (mean and 95% CI) against three risk measures, one panel each."""
    table = options[_METRICS].assign(cvar_loss=-options["cvar5_profit"])
    risks = [r for r in _risks(ctx.currency) if np.isfinite(table[r[0]]).any()]
    if not risks or not np.isfinite(table["npv_mean"]).any():
        ctx.notes.append("options.csv: no finite NPV or risk measure, no risk/return chart")
        return []
    fig = new_figure(5.4 * len(risks), 5.0)
    axes = fig.subplots(1, len(risks), squeeze=False, sharey=True).ravel()
    labels_per_panel = []
    for ax, (col, label, share) in zip(axes, risks, strict=True):
        labels_per_panel.append(_risk_panel(ctx, ax, table, col, share))
        ax.set_xlabel(f"{label}, right = riskier")
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0) if share else FuncFormatter(tick))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.yaxis.set_major_formatter(FuncFormatter(tick))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"NPV of net profit ({ctx.currency}), mean and 95% CI")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6))
    rate = ctx.summary.get("discount_rate_annual")
    rate_text = f" at {rate:.0%} a year" if isinstance(rate, int | float) else ""
    fig.suptitle(f"Entry options: risk vs return (NPV{rate_text})", fontsize=12)
    fig.draw_without_rendering()  # settle the layout (legend, titles) before placing labels
    for ax, points in zip(axes, labels_per_panel, strict=True):
        _label_points(ax, points)
    return [
        Chart(
            "entry_risk_return",
            "Entry options: risk vs return",
            "Options higher up earn more in expectation and options further left are safer, so "
            "the best candidates sit top-left and an option both lower and further right than "
            "another is dominated.",
            to_png(fig),
        )
    ]


def _risk_panel(
    ctx: Context, ax, table: pd.DataFrame, col: str, share: bool
) -> list[tuple[float, float, str]]:
    """Draw one panel; return the points to label once the figure's layout is settled."""
    points: list[tuple[float, float, str]] = []
    for row in table.itertuples():
        x, y = float(getattr(row, col)), float(row.npv_mean)
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        yerr = None
        if np.isfinite(row.npv_low) and np.isfinite(row.npv_high):
            yerr = [[y - row.npv_low], [row.npv_high - y]]
        color = ctx.color(row.option)
        ax.errorbar(
            x,
            y,
            yerr=yerr,
            fmt="o",
            color=color,
            capsize=4,
            ms=7,
            label=mpl_text(f"#{int(row.rank)} {row.option}"),
        )
        points.append((x, y, f"#{int(row.rank)}"))
    ax.axhline(0.0, color="black", lw=1, ls=":", label="NPV = 0")
    ax.margins(x=0.12, y=0.08)
    if share:
        ax.set_xlim(-0.05, 1.05)  # probabilities: always the whole 0-100% scale
    return points


def _label_points(ax, points: list[tuple[float, float, str]]) -> None:
    """Label each option by its rank (the legend names it) without overlaps: options at the
    same spot share one label; a label that would overlap another, or leave the panel, tries
    nearby spots above, below and on either side of its point."""
    lo, hi = ax.get_xlim()
    y_lo, y_hi = ax.get_ylim()
    groups: dict[tuple[float, float], tuple[float, float, list[str]]] = {}
    for x, y, text in points:
        key = (round((x - lo) / (hi - lo), 3), round((y - y_lo) / (y_hi - y_lo), 3))
        groups.setdefault(key, (x, y, []))[2].append(text)
    renderer = ax.figure.canvas.get_renderer()
    placed: list = []  # window extents of the labels drawn so far
    for x, y, texts in sorted(groups.values(), key=lambda g: (g[1], g[0])):
        label = ax.annotate(
            mpl_text(",".join(texts)),
            (x, y),
            textcoords="offset points",
            xytext=(5, 3),
            va="bottom",
            fontsize=8,
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.5", "shrinkA": 0, "shrinkB": 3},
        )
        label.set_in_layout(False)
        _place_clear(label, ax.get_window_extent(renderer), placed, renderer)
        placed.append(Text.get_window_extent(label, renderer))


def _label_spots() -> list[tuple[float, float, str]]:
    """Offsets (points) and alignment tried in order: near first, then further out."""
    spots = []
    for dx in (5, 24, 43):
        for dy in (3, -13, 15, -25, 27, -37, 39, -49, 51, -61):
            spots += [(dx, dy, "left"), (-dx, dy, "right")]
    return spots


def _place_clear(label, inside, placed: list, renderer) -> None:
    """Move ``label`` to the first spot inside the panel clear of ``placed`` (if any)."""
    for dx, dy, ha in _label_spots():
        label.xyann = (dx, dy)
        label.set_horizontalalignment(ha)
        label.update_positions(renderer)
        box = Text.get_window_extent(label, renderer)  # the text alone, not its leader line
        fits = inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
        padded = box.expanded(1.1, 1.2)
        if fits and not any(padded.overlaps(other) for other in placed):
            return
    label.xyann, _ = (5, 3), label.set_horizontalalignment("left")


def entry_sections(ctx: Context) -> list[Section]:
    """Risk/return, NPV and profit distributions, the ranked table, then the time series."""
    options = ctx.table("options.csv")
    reps = ctx.table("replications.csv")
    s = Section("Market-entry options")
    if options is None:
        ctx.notes.append("options.csv: not found, no risk/return chart")
    else:
        s.charts += risk_return_chart(ctx, options)
    if reps is not None:
        s.charts += distribution_chart(
            ctx, reps, "npv_base", "npv_distribution", "NPV of net profit", regional=False
        )
        s.charts += distribution_chart(
            ctx,
            reps,
            "net_profit_base",
            "profit_distribution",
            "net profit over the horizon",
            regional=False,
        )
    if options is not None:
        options = options.sort_values("rank", kind="stable")
        s.tables.append(
            html_table("Entry options, ranked", options, ctx.declared("options.csv"), ctx.currency)
        )
    t = Section("KPIs over time")
    ts = ctx.table("timeseries.csv")
    if ts is None:
        ctx.notes.append("timeseries.csv: not found, no time-series charts")
    else:
        t.charts += timeseries_charts(ctx, ts, "option")
    return [s, t]
