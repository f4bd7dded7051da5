"""`marketsim report OUT`: one self-contained HTML report plus PNG charts from a result folder.

Reads what ``run --reps``, ``compare``, ``tune`` and ``entry`` wrote under ``OUT`` (CSV tables
and ``summary.json``) and writes ``OUT/report/report.html`` (inline CSS, every chart embedded as
a base64 PNG data URI, tables rendered with escaped HTML) plus ``OUT/report/<chart>.png``.
Readers are tolerant: a chart whose input file or columns are missing is skipped (and listed
under "notes" in the report). Charts are drawn on ``matplotlib.figure.Figure`` objects, which
render with Agg and keep no pyplot state. Every file is written atomically (temp + rename),
the PNGs first and the HTML last.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from experiments.results import atomic_write, safe_path, write_text
from sim.errors import DataError
from sim.kpis import KPI_BY_NAME

EXIT_BAD_INPUT = 2
REPORT_DIR = "report"
REPORT_FILE = "report.html"
COMMANDS = ("run", "compare", "tune", "entry")
DPI = 110
ID_COLUMNS = ("variant", "option", "region", "kpi", "param", "baseline", "state", "name")

# (timeseries kpi, panel title) -- drawn when present in timeseries.csv
TS_PANELS = (
    ("net_profit_base_cumulative", "Cumulative net profit"),
    ("revenue_base_cumulative", "Cumulative revenue"),
    ("units_cumulative", "Cumulative units sold"),
    ("market_share", "Market share (our units / all units)"),
    ("active_customers", "Active customers"),
    ("aware_share", "Share of consumers aware of us"),
)
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
MAX_TABLE_ROWS = 60


class ReportError(DataError):
    """``OUT`` is not a marketsim output folder (no or unusable ``summary.json``)."""


@dataclass
class Chart:
    """One rendered chart."""

    name: str
    title: str
    how_to_read: str
    png: bytes


@dataclass
class Section:
    """A heading with charts and tables."""

    title: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[tuple[str, str]] = field(default_factory=list)  # (caption, html)


@dataclass
class Context:
    """What every chart builder needs."""

    out: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    command: str
    currency: str
    notes: list[str] = field(default_factory=list)
    colors: dict[str, Any] = field(default_factory=dict)

    def csv(self, name: str) -> pd.DataFrame | None:
        """``OUT/name`` as a DataFrame, or None when missing, empty or unreadable."""
        path = safe_path(self.out, name)
        if not path.is_file() or path.stat().st_size == 0:
            return None
        try:
            frame = pd.read_csv(
                path,
                dtype={c: str for c in ID_COLUMNS},
                keep_default_na=False,
                na_values=["", "nan", "NaN", "NA_"],
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            self.notes.append(f"{name}: unreadable ({exc})")
            return None
        return frame if len(frame.columns) else None

    def color(self, name: str) -> Any:
        """A stable colour per variant / option across every chart."""
        if name not in self.colors:
            palette = _palette()
            self.colors[name] = palette[len(self.colors) % len(palette)]
        return self.colors[name]


# ----------------------------------------------------------------------------- public API
def write_report(out: str | Path) -> Path:
    """Write ``OUT/report/report.html`` (self-contained) and ``OUT/report/*.png``.

    Raises:
        ReportError: ``OUT`` has no readable ``summary.json`` of a marketsim command.
    """
    out = Path(out)
    ctx = _context(out)
    sections = _BUILDERS[ctx.command](ctx)
    report_dir = safe_path(out, REPORT_DIR)
    written: set[str] = set()
    for section in sections:
        for chart in section.charts:
            path = safe_path(report_dir, f"{chart.name}.png")
            atomic_write(path, lambda p, data=chart.png: p.write_bytes(data))
            written.add(path.name)
    for stale in report_dir.glob("*.png") if report_dir.is_dir() else ():
        if stale.name not in written:  # from an earlier report of this folder
            stale.unlink(missing_ok=True)
    return write_text(out, f"{REPORT_DIR}/{REPORT_FILE}", _html(ctx, sections))


def cmd_report(args: argparse.Namespace) -> int:
    """``marketsim report OUT``: print the path of the written report."""
    try:
        path = write_report(args.out)
    except ReportError as exc:
        print(f"marketsim report: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(path)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    rep = sub.add_parser(
        "report",
        help="write OUT/report/report.html (self-contained) and PNG charts from a result folder",
    )
    rep.add_argument("out", help="output folder of run --reps, compare, tune or entry")
    rep.set_defaults(func=cmd_report)


# ----------------------------------------------------------------------------- context
def _context(out: Path) -> Context:
    if not out.is_dir():
        raise ReportError(f"{out}: no such folder")
    path = safe_path(out, "summary.json")
    if not path.is_file():
        raise ReportError(
            f"{out}: no summary.json; not a marketsim output folder "
            "(expected the --out folder of run --reps, compare, tune or entry)"
        )
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise ReportError(f"{path}: not a marketsim summary (expected a JSON object)")
    command = summary.get("command")
    if command is None and "totals" in summary and safe_path(out, "kpis.csv").is_file():
        command = "single"  # plain `marketsim run` (one replication)
    elif command not in COMMANDS:
        what = f"command {command!r}" if command else "no 'command' field"
        raise ReportError(
            f"{path}: not a marketsim result summary ({what}; reports exist for "
            f"{', '.join(COMMANDS)})"
        )
    manifest: dict[str, Any] = {}
    mpath = safe_path(out, "manifest.json")
    if mpath.is_file():
        try:
            loaded = json.loads(mpath.read_text(encoding="utf-8"))
            manifest = loaded if isinstance(loaded, dict) else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            manifest = {}
    return Context(out, summary, manifest, str(command), _currency(summary, manifest))


def _currency(summary: dict[str, Any], manifest: dict[str, Any]) -> str:
    """Base currency: from summary.json, else the (unchanged) scenario file, else generic."""
    for key in ("currency", "base_currency"):
        if isinstance(summary.get(key), str) and summary[key]:
            return summary[key]
    for source in (summary, manifest):
        scenarios = source.get("scenarios")
        for meta in scenarios if isinstance(scenarios, list) else []:
            currency = _scenario_currency(meta)
            if currency:
                return currency
    return "base currency"


def _scenario_currency(meta: Any) -> str | None:
    if not isinstance(meta, dict) or not meta.get("file"):
        return None
    import yaml

    from experiments.files import file_sha256

    try:
        if meta.get("sha256") and file_sha256(meta["file"]) != meta["sha256"]:
            return None  # the file changed since the run
        data = yaml.safe_load(Path(meta["file"]).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):  # best effort only
        return None
    currency = data.get("currency") if isinstance(data, dict) else None
    return currency if isinstance(currency, str) and currency else None


# ----------------------------------------------------------------------------- helpers
def _palette() -> list[Any]:
    from matplotlib import colormaps

    return list(colormaps["tab10"].colors) + list(colormaps["Dark2"].colors)


def _t(text: Any) -> str:
    """Text safe for matplotlib (no mathtext from ``$`` in user names)."""
    return str(text).replace("$", r"\$")


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    fig.clear()
    return buf.getvalue()


def _base_kpi(name: str) -> str:
    return name.removesuffix("_cumulative")


def _kpi_label(name: str) -> str:
    labels = {
        "net_profit_base": "net profit",
        "revenue_base": "revenue",
        "gross_profit_base": "gross profit",
        "cac_base": "customer acquisition cost",
        "units": "units sold",
        "market_share": "market share",
        "active_customers": "active customers",
        "aware_share": "aware share",
        "on_time_rate": "on-time rate",
    }
    base = _base_kpi(name)
    label = labels.get(base, base.removesuffix("_base").replace("_", " "))
    return f"cumulative {label}" if name.endswith("_cumulative") else label


def _unit(name: str, currency: str) -> str:
    kpi = KPI_BY_NAME.get(_base_kpi(name))
    if kpi is None:
        return "value"
    return {"base": currency, "share": "%"}.get(kpi.unit, kpi.unit)


def _is_share(name: str) -> bool:
    kpi = KPI_BY_NAME.get(_base_kpi(name))
    return kpi is not None and kpi.unit == "share"


def _format_axis(axis: Any, kpi: str) -> None:
    """Percent for shares, thousands separators otherwise; at most ~6 ticks."""
    axis.set_major_locator(MaxNLocator(nbins=5))
    if _is_share(kpi):
        axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
    else:
        axis.set_major_formatter(FuncFormatter(_tick))


def _tick(value: float, _pos: int | None = None) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _direction(kpi: str) -> float:
    """+1 larger is better, -1 smaller is better, 0 unknown."""
    kpi_def = KPI_BY_NAME.get(_base_kpi(kpi))
    if kpi_def is None:
        return 0.0
    return {"maximize": 1.0, "minimize": -1.0}.get(kpi_def.direction, 0.0)


def _col(frame: pd.DataFrame, *candidates: str, contains: str | None = None) -> str | None:
    """The first candidate column present (or the first containing ``contains``)."""
    for c in candidates:
        if c in frame.columns:
            return c
    if contains:
        for c in frame.columns:
            if contains in str(c).lower():
                return str(c)
    return None


def _numeric(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def _entity_column(frame: pd.DataFrame) -> str | None:
    return _col(frame, "variant", "option")


def _order(ctx: Context, names: Iterable[str]) -> list[str]:
    """Variants/options in summary order (then ranking order, then first appearance)."""
    names = list(dict.fromkeys(str(n) for n in names))
    listed = ctx.summary.get("variants") or ctx.summary.get("options") or []
    listed = [str(v if not isinstance(v, dict) else v.get("name", "")) for v in listed]
    ordered = [n for n in listed if n in names]
    return ordered + [n for n in names if n not in ordered]


def _reps_text(ctx: Context) -> str:
    reps = ctx.summary.get("reps")
    return f"{reps} replications" if reps else "replications"


def _safe_name(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text))
    return keep[:60] or "x"


def _guard(ctx: Context, what: str, build: Callable[[], list[Chart]]) -> list[Chart]:
    """Run a chart builder; an unexpected layout skips the chart with a note."""
    try:
        return build()
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        ctx.notes.append(f"{what}: skipped ({type(exc).__name__}: {exc})")
        return []


# ----------------------------------------------------------------------------- time series
def _timeseries_charts(ctx: Context, ts: pd.DataFrame | None) -> list[Chart]:
    if ts is None:
        ctx.notes.append("timeseries.csv: not found, no time-series charts")
        return []
    entity = _entity_column(ts)
    needed = {"region", "kpi", "day", "mean"}
    if entity is None or not needed <= set(ts.columns):
        ctx.notes.append("timeseries.csv: unexpected columns, no time-series charts")
        return []
    panels = [(k, title) for k, title in TS_PANELS if k in set(ts["kpi"])]
    if not panels:
        return []
    regions = list(dict.fromkeys(ts["region"]))
    regions = (["ALL"] if "ALL" in regions else []) + [r for r in regions if r != "ALL"]
    names = _order(ctx, ts[entity])
    charts = []
    for region in regions:
        data = ts[ts["region"] == region]
        ncols = 3 if len(panels) > 4 else 2
        nrows = math.ceil(len(panels) / ncols)
        fig = _figure(5.2 * ncols, 3.4 * nrows + 0.8)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        any_band = False
        for ax, (kpi, title) in zip(axes, panels, strict=False):
            part = data[data["kpi"] == kpi]
            for name in names:
                g = part[part[entity] == name].sort_values("day")
                if g.empty:
                    continue
                day, mean = _numeric(g["day"]), _numeric(g["mean"])
                ax.plot(day, mean, color=ctx.color(name), lw=1.6)
                if {"low", "high"} <= set(g.columns):
                    low, high = _numeric(g["low"]), _numeric(g["high"])
                    if np.nanmax(np.abs(high - low), initial=0.0) > 0:
                        any_band = True
                        ax.fill_between(day, low, high, color=ctx.color(name), alpha=0.18, lw=0)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("day of simulation")
            ax.set_ylabel(f"{_kpi_label(kpi)} ({_unit(kpi, ctx.currency)})")
            _format_axis(ax.yaxis, kpi)
            ax.grid(alpha=0.3)
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles: list[Any] = [Line2D([], [], color=ctx.color(n), lw=2, label=_t(n)) for n in names]
        if any_band:
            handles.append(Patch(color="grey", alpha=0.3, label="5-95% band across replications"))
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6))
        band = f", band: 5-95% of {_reps_text(ctx)}" if any_band else ""
        fig.suptitle(f"KPI time series, region {_t(region)} (line: mean{band})", fontsize=12)
        charts.append(
            Chart(
                f"timeseries_{_safe_name(region)}",
                f"KPI time series, region {region}",
                "Each line is the mean path of one variant over the simulated days and the shaded "
                "band holds 90% of the replications, so lines whose bands barely overlap differ "
                "reliably.",
                _png(fig),
            )
        )
    return charts


def _single_run_timeseries(kpis: pd.DataFrame, name: str) -> pd.DataFrame:
    """A one-replication ``kpis.csv`` in the ``timeseries.csv`` layout (no band)."""
    rows = []
    for region, g in kpis.groupby("region", sort=False):
        g = g.sort_values("day")
        for kpi, _title in TS_PANELS:
            base = _base_kpi(kpi)
            if base not in g.columns:
                continue
            values = _numeric(g[base])
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
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


# ----------------------------------------------------------------------------- comparisons
def _forest_chart(ctx: Context, diffs: pd.DataFrame | None) -> list[Chart]:
    if diffs is None or diffs.empty:
        return []
    primary = str(ctx.summary.get("primary_kpi") or "net_profit_base")
    present = set(diffs["kpi"])
    kpis = [k for k in dict.fromkeys([primary, *FOREST_KPIS]) if k in present][:6]
    if not kpis:
        return []
    baseline = str(ctx.summary.get("baseline") or diffs.get("baseline", pd.Series([""])).iloc[0])
    names = [n for n in _order(ctx, diffs["variant"]) if n != baseline]
    ncols = min(3, len(kpis))
    nrows = math.ceil(len(kpis) / ncols)
    height = max(2.6, 0.45 * len(names) + 1.6)
    fig = _figure(4.6 * ncols, height * nrows + 0.9)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    colors = {1: "tab:green", -1: "tab:red", 0: "tab:grey"}
    y = np.arange(len(names))[::-1]
    for ax, kpi in zip(axes, kpis, strict=False):
        d = diffs[diffs["kpi"] == kpi].set_index("variant")
        sign = _direction(kpi)
        for yi, name in zip(y, names, strict=True):
            if name not in d.index:
                continue
            row = d.loc[name]
            mean, low, high = (
                float(pd.to_numeric(row.get(c), errors="coerce")) for c in ("mean", "low", "high")
            )
            verdict = 0
            if np.isfinite(low) and np.isfinite(high) and sign and (low > 0 or high < 0):
                verdict = 1 if (low > 0) == (sign > 0) else -1
            if np.isfinite(low) and np.isfinite(high):
                ax.errorbar(
                    mean,
                    yi,
                    xerr=[[mean - low], [high - mean]],
                    fmt="o",
                    color=colors[verdict],
                    capsize=4,
                    ms=6,
                )
            else:
                ax.plot(mean, yi, "o", color=colors[verdict], ms=6)
        ax.axvline(0.0, color="black", lw=1, ls="--")
        ax.set_yticks(y, [_t(n) for n in names])
        ax.set_ylim(-0.7, len(names) - 0.3)
        star = " (primary)" if kpi == primary else ""
        ax.set_title(f"{_kpi_label(kpi)}{star}", fontsize=10)
        unit = _unit(kpi, ctx.currency)
        ax.set_xlabel(f"difference vs baseline ({'percentage points' if unit == '%' else unit})")
        _format_axis(ax.xaxis, kpi)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(kpis) :]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], marker="o", ls="-", color=colors[1], label="better than baseline (95% CI)"),
        Line2D([], [], marker="o", ls="-", color=colors[-1], label="worse than baseline (95% CI)"),
        Line2D([], [], marker="o", ls="-", color=colors[0], label="no clear difference"),
        Line2D([], [], color="black", ls="--", label="no difference (0)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4)
    fig.suptitle(
        f"Paired differences vs baseline {_t(baseline)!r}: mean and 95% CI over {_reps_text(ctx)}",
        fontsize=12,
    )
    return [
        Chart(
            "differences_forest",
            f"Paired differences vs baseline {baseline}",
            "Each dot is a variant's mean difference from the baseline on the same random "
            "numbers and the bar its 95% confidence interval: a bar that does not cross the dashed "
            "zero line is a real difference (green better, red worse).",
            _png(fig),
        )
    ]


def _distribution_chart(
    ctx: Context, reps: pd.DataFrame | None, value_cols: Sequence[str], stem: str, what: str
) -> list[Chart]:
    """Box + points of per-replication totals per variant (or per region for one variant)."""
    if reps is None or reps.empty:
        return []
    entity = _entity_column(reps)
    cols = [c for c in value_cols if c in reps.columns]
    if entity is None or not cols:
        return []
    col = cols[0]
    names = _order(ctx, reps[entity])
    if "region" in reps.columns:
        regions = list(dict.fromkeys(reps["region"]))
        if len(names) == 1 and len(regions) > 1:
            regions = (["ALL"] if "ALL" in regions else []) + [r for r in regions if r != "ALL"]
            groups = [(r, reps[reps["region"] == r]) for r in regions]
            colors = [ctx.color(names[0])] * len(groups)
            xlabel = "region"
        else:
            data = reps[reps["region"] == "ALL"] if "ALL" in regions else reps
            groups = [(n, data[data[entity] == n]) for n in names]
            colors = [ctx.color(n) for n in names]
            xlabel = entity
    else:
        groups = [(n, reps[reps[entity] == n]) for n in names]
        colors = [ctx.color(n) for n in names]
        xlabel = entity
    values = [_numeric(g[col]) for _, g in groups]
    values = [v[np.isfinite(v)] for v in values]
    keep = [i for i, v in enumerate(values) if len(v)]
    if not keep:
        return []
    labels = [groups[i][0] for i in keep]
    values = [values[i] for i in keep]
    colors = [colors[i] for i in keep]
    fig = _figure(max(6.0, 1.1 * len(labels) + 3.0), 4.8)
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
    lo = min(v.min() for v in values)
    hi = max(v.max() for v in values)
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
    if lo < 0 < hi:
        ax.axhline(0.0, color="black", lw=1, ls=":")
        handles.append(Line2D([], [], color="black", ls=":", label="break-even (0)"))
    ax.set_xticks(pos, [_t(x) for x in labels], rotation=30 if len(labels) > 6 else 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{what} ({ctx.currency})")
    ax.yaxis.set_major_formatter(FuncFormatter(_tick))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=handles, loc="best", fontsize=8)
    ax.set_title(f"Distribution of {what} across {_reps_text(ctx)}", fontsize=12)
    return [
        Chart(
            stem,
            f"Distribution of {what}",
            "Each dot is one replication's total and the box holds the middle half of them, so "
            "the spread shows how much the outcome depends on luck and the diamonds compare "
            "the means.",
            _png(fig),
        )
    ]


# ----------------------------------------------------------------------------- tuning
def _state(frame: pd.DataFrame) -> pd.Series:
    if "state" not in frame.columns:
        return pd.Series("COMPLETE", index=frame.index)
    return frame["state"].astype(str).str.upper().str.split(".").str[-1]


def _objective_columns(trials: pd.DataFrame) -> list[str]:
    """``value`` (one objective) or ``values_*`` (Optuna) / ``value_<kpi>`` (marketsim tune)."""
    if "value" in trials.columns:
        return ["value"]
    return [c for c in trials.columns if str(c).startswith(("values_", "value_"))]


def _summary_objectives(ctx: Context) -> list[tuple[str, str]]:
    """``(kpi, direction)`` from summary.json ``objectives`` (strings or dicts) or ``objective``."""
    given = ctx.summary.get("objectives")
    if isinstance(given, str):
        given = [o for o in given.split(",") if o]
    out = []
    for o in given if isinstance(given, list) else []:
        if isinstance(o, dict) and o.get("kpi"):
            out.append((str(o["kpi"]), str(o.get("direction") or "")))
        elif isinstance(o, str):
            out.append((o, ""))
    if not out and ctx.summary.get("objective"):
        out.append((str(ctx.summary["objective"]), ""))
    return out


def _param_columns(ctx: Context, trials: pd.DataFrame) -> list[str]:
    """Tuned-parameter columns: ``params_*`` (Optuna) or ``kind.param`` (marketsim tune)."""
    cols = [str(c) for c in trials.columns if str(c).startswith("params_")]
    if cols:
        return cols
    keys: list[str] = []
    space = ctx.summary.get("search_space")
    strategies = space.get("strategies") if isinstance(space, dict) else None
    if isinstance(strategies, dict):
        for kind, spec in strategies.items():
            tuned = spec.get("tuned") if isinstance(spec, dict) else None
            keys += [f"{kind}.{name}" for name in tuned or {}]
    best = ctx.summary.get("best")
    if isinstance(best, dict) and isinstance(best.get("params"), dict):
        keys += list(best["params"])
    keys = [k for k in dict.fromkeys(keys) if k in trials.columns]
    if keys:
        return keys
    return [str(c) for c in trials.columns if re.fullmatch(r"[A-Za-z_]\w*\.[A-Za-z_]\w*", str(c))]


def _param_label(column: str) -> str:
    return column.removeprefix("params_")


def _objective_names(ctx: Context, columns: list[str]) -> list[str]:
    objectives = [kpi for kpi, _ in _summary_objectives(ctx)]
    named = [c.removeprefix("value_") for c in columns if c.startswith("value_")]
    if len(named) == len(columns):
        return named
    if len(objectives) == len(columns):
        return objectives
    return [c.removeprefix("values_") for c in columns]


def _directions(ctx: Context, names: list[str]) -> list[float]:
    known = dict(_summary_objectives(ctx))
    given = ctx.summary.get("directions") or ctx.summary.get("direction")
    if isinstance(given, str):
        given = [given] * len(names)
    out = []
    for i, name in enumerate(names):
        d = known.get(name, "").lower()
        if not d and isinstance(given, list) and i < len(given):
            d = str(given[i]).lower()
        if d.startswith("min"):
            out.append(-1.0)
        elif d.startswith("max"):
            out.append(1.0)
        else:
            out.append(_direction(name) or 1.0)
    return out


def _robust_text(ctx: Context) -> str:
    robust = ctx.summary.get("robust")
    return f", {robust} over scenarios x replications" if robust else ""


def _tuning_charts(ctx: Context, trials: pd.DataFrame | None) -> list[Chart]:
    if trials is None or trials.empty:
        ctx.notes.append("trials.csv: not found, no tuning charts")
        return []
    cols = _objective_columns(trials)
    if not cols:
        ctx.notes.append("trials.csv: no value column, no tuning charts")
        return []
    names = _objective_names(ctx, cols)
    signs = _directions(ctx, names)
    state = _state(trials)
    number = (
        _numeric(trials["number"])
        if "number" in trials.columns
        else np.arange(len(trials), dtype=float)
    )
    fig = _figure(9.0, 3.6 * len(cols) + 0.6)
    axes = fig.subplots(len(cols), 1, squeeze=False, sharex=True).ravel()
    for ax, col, name, sign in zip(axes, cols, names, signs, strict=True):
        value = _numeric(trials[col])
        done = (state == "COMPLETE").to_numpy() & np.isfinite(value)
        pruned = (state == "PRUNED").to_numpy()
        failed = (state == "FAIL").to_numpy()
        ax.scatter(number[done], value[done], s=20, color="tab:blue", label="completed trial")
        if pruned.any():
            shown = pruned & np.isfinite(value)
            ax.scatter(
                number[shown],
                value[shown],
                marker="x",
                s=30,
                color="tab:red",
                label=f"pruned trial ({pruned.sum()}, last reported value)",
            )
            hidden = pruned & ~np.isfinite(value)
            if hidden.any():
                for x in number[hidden]:
                    ax.axvline(x, color="tab:red", lw=0.6, alpha=0.4)
        if failed.any():
            for x in number[failed]:
                ax.axvline(x, color="black", lw=0.6, alpha=0.3, ls=":")
            ax.plot([], [], color="black", ls=":", label=f"failed trial ({failed.sum()})")
        if "baseline" in trials.columns:
            is_base = trials["baseline"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
            base = is_base & np.isfinite(value)
            if base.any():
                i = int(np.flatnonzero(base)[0])
                ax.axhline(
                    value[i],
                    color="tab:purple",
                    ls="--",
                    lw=1,
                    label=f"baseline: scenario's own strategies (trial {int(number[i])})",
                )
        if done.any():
            order = np.argsort(number[done])
            xs, vs = number[done][order], value[done][order]
            best = np.maximum.accumulate(vs) if sign > 0 else np.minimum.accumulate(vs)
            ax.step(xs, best, where="post", color="black", lw=1.5, label="best so far")
            i = int(np.argmax(vs * sign))
            ax.scatter(
                [xs[i]],
                [vs[i]],
                marker="*",
                s=160,
                color="gold",
                edgecolor="black",
                zorder=4,
                label=f"best: trial {int(xs[i])}",
            )
        better = "higher is better" if sign > 0 else "lower is better"
        ax.set_ylabel(f"{_kpi_label(name)} ({_unit(name, ctx.currency)})")
        ax.set_title(f"objective {_t(name)}{_robust_text(ctx)} ({better})", fontsize=10)
        _format_axis(ax.yaxis, name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    axes[-1].set_xlabel("trial number")
    fig.suptitle(f"Tuning history: {len(trials)} trials", fontsize=12)
    charts = [
        Chart(
            "tuning_history",
            "Tuning history",
            "Each dot is one trial's objective value in the order they ran and the black step is "
            "the best found so far, so a flat step at the end means the search has settled "
            "(red crosses are trials pruned early).",
            _png(fig),
        )
    ]
    charts += _guard(ctx, "parameter slices", lambda: _slice_chart(ctx, trials, cols[0], names[0]))
    return charts


def _slice_chart(ctx: Context, trials: pd.DataFrame, col: str, name: str) -> list[Chart]:
    params = _param_columns(ctx, trials)
    imp = ctx.csv("importance.csv")
    if imp is not None and {"param", "importance"} <= set(imp.columns):
        order = imp.assign(_i=_numeric(imp["importance"])).sort_values("_i", ascending=False)
        ranked = [c for p in order["param"] for c in (p, f"params_{p}") if c in params]
        ranked = list(dict.fromkeys(ranked))
        params = ranked + [p for p in params if p not in ranked]
    params = params[:6]
    done = (_state(trials) == "COMPLETE").to_numpy()
    value = _numeric(trials[col])
    ok = done & np.isfinite(value)
    if not params or not ok.any():
        return []
    number = _numeric(trials["number"]) if "number" in trials.columns else np.arange(len(trials))
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    fig = _figure(4.4 * ncols + 0.8, 3.3 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    scatter = None
    for ax, p in zip(axes, params, strict=False):
        raw = trials.loc[ok, p]
        x = pd.to_numeric(raw, errors="coerce")
        if x.isna().all():  # categorical parameter
            cats = list(dict.fromkeys(raw.astype(str)))
            x = raw.astype(str).map({c: i for i, c in enumerate(cats)})
            ax.set_xticks(range(len(cats)), [_t(c) for c in cats], rotation=20)
            ax.set_xlim(-0.5, len(cats) - 0.5)
        scatter = ax.scatter(
            x, value[ok], c=number[ok], cmap="viridis", s=22, label="completed trial"
        )
        ax.set_xlabel(_t(_param_label(p)))
        ax.grid(alpha=0.3)
        _format_axis(ax.yaxis, name)
    for ax in axes[: len(params) : ncols]:
        ax.set_ylabel(f"{_kpi_label(name)} ({_unit(name, ctx.currency)})")
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="best")
    if scatter is not None:
        fig.colorbar(scatter, ax=list(axes[: len(params)]), label="trial number", shrink=0.8)
    fig.suptitle(f"Objective vs each tuned parameter ({_t(name)})", fontsize=12)
    return [
        Chart(
            "tuning_slices",
            "Objective vs each parameter",
            "Each dot is a completed trial placed at the value it tried for one parameter "
            "(later trials are yellower), so a clear hump or slope shows where that "
            "parameter is best.",
            _png(fig),
        )
    ]


def _importance_chart(ctx: Context, imp: pd.DataFrame | None) -> list[Chart]:
    if imp is None or imp.empty or not {"param", "importance"} <= set(imp.columns):
        reason = ctx.summary.get("importance_skipped")
        if reason:
            ctx.notes.append(f"parameter importance not computed: {reason}")
        return []
    panels = (
        list(imp.groupby("objective", sort=False))
        if "objective" in imp.columns
        else [(ctx.summary.get("objective") or "the objective", imp)]
    )
    n_params = max(len(g) for _, g in panels)
    fig = _figure(6.5 * len(panels), max(2.8, 0.38 * n_params + 1.6))
    axes = fig.subplots(1, len(panels), squeeze=False).ravel()
    for ax, (obj, g) in zip(axes, panels, strict=True):
        g = g.assign(importance=_numeric(g["importance"])).sort_values("importance")
        ax.barh([_t(p) for p in g["param"]], g["importance"], color="tab:blue", label="importance")
        ax.set_xlabel("importance (share of the objective's variation explained)")
        ax.set_ylabel("parameter")
        ax.set_title(f"for {_t(obj)}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Parameter importance", fontsize=12)
    return [
        Chart(
            "parameter_importance",
            "Parameter importance",
            "Longer bars mark the parameters whose value moved the objective most across the "
            "trials; short bars can be fixed without losing much.",
            _png(fig),
        )
    ]


def _non_dominated(points: np.ndarray) -> np.ndarray:
    """Mask of points not dominated (all objectives already oriented so larger is better)."""
    keep = np.ones(len(points), dtype=bool)
    for i, p in enumerate(points):
        dominated = np.all(points >= p, axis=1) & np.any(points > p, axis=1)
        keep[i] = not dominated.any()
    return keep


def _pareto_chart(
    ctx: Context, trials: pd.DataFrame | None, pareto: pd.DataFrame | None
) -> list[Chart]:
    if trials is None or trials.empty:
        return []
    cols = _objective_columns(trials)
    if len(cols) < 2:
        return []
    names = _objective_names(ctx, cols)
    signs = _directions(ctx, names)
    values = np.column_stack([_numeric(trials[c]) for c in cols])
    ok = (_state(trials) == "COMPLETE").to_numpy() & np.all(np.isfinite(values), axis=1)
    numbers = _numeric(trials["number"]) if "number" in trials.columns else np.arange(len(trials))
    if not ok.any():
        return []
    front = np.zeros(len(trials), dtype=bool)
    if pareto is not None and "number" in pareto.columns and "number" in trials.columns:
        front = np.isin(numbers, _numeric(pareto["number"])) & ok
    elif ok.any():
        front[np.flatnonzero(ok)] = _non_dominated(values[ok] * np.asarray(signs))
    pairs = [(i, j) for i in range(len(cols)) for j in range(i + 1, len(cols))][:3]
    fig = _figure(5.6 * len(pairs), 4.8)
    axes = fig.subplots(1, len(pairs), squeeze=False).ravel()
    for ax, (i, j) in zip(axes, pairs, strict=True):
        rest = ok & ~front
        ax.scatter(
            values[rest, i],
            values[rest, j],
            s=18,
            color="lightgrey",
            edgecolor="grey",
            label="dominated trial",
        )
        xs, ys, ns = values[front, i], values[front, j], numbers[front]
        order = np.argsort(xs)
        if len(cols) == 2:
            ax.plot(xs[order], ys[order], color="tab:red", lw=1, alpha=0.7)
        ax.scatter(
            xs, ys, s=40, color="tab:red", edgecolor="black", zorder=3, label="Pareto-optimal trial"
        )
        for x, y, n in zip(xs, ys, ns, strict=True):
            ax.annotate(f"{int(n)}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        arrow = {1.0: ("→", "↑"), -1.0: ("←", "↓")}
        for axis, k, which in ((ax.set_xlabel, i, 0), (ax.set_ylabel, j, 1)):
            label = f"{_t(_kpi_label(names[k]))} ({_unit(names[k], ctx.currency)})"
            axis(f"{label}, better {arrow[signs[k]][which]}")
        _format_axis(ax.xaxis, names[i])
        _format_axis(ax.yaxis, names[j])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(
        f"Pareto front: {int(front.sum())} of {int(ok.sum())} completed trials "
        "(numbers are trial numbers)",
        fontsize=12,
    )
    return [
        Chart(
            "pareto_front",
            "Pareto front",
            "Red points are trials no other trial beats on every objective at once, so the "
            "choice among them is a trade-off; grey points are beaten by some red point.",
            _png(fig),
        )
    ]


# ----------------------------------------------------------------------------- entry
def _entry_metrics(ctx: Context, options: pd.DataFrame, reps: pd.DataFrame | None) -> pd.DataFrame:
    """One row per option: name, npv mean/low/high and risk measures that can be found."""
    name_col = _col(options, "option", "name", "variant")
    if name_col is None:
        raise KeyError("options.csv has no option column")
    table = pd.DataFrame({"option": options[name_col].astype(str)})
    mean_col = _col(options, "npv_mean", "npv")
    low_col, high_col = _col(options, "npv_low"), _col(options, "npv_high")
    table["npv"] = _numeric(options[mean_col]) if mean_col else np.nan
    table["low"] = _numeric(options[low_col]) if low_col else np.nan
    table["high"] = _numeric(options[high_col]) if high_col else np.nan
    cvar_col = _col(options, "cvar5_profit", contains="cvar")
    if cvar_col:
        table["cvar_loss"] = -_numeric(options[cvar_col])
    ploss_col = _col(options, "p_loss", "prob_loss", "probability_of_loss")
    if ploss_col:
        table["p_loss"] = _numeric(options[ploss_col])
    sd_col = _col(options, "npv_sd", "sd_npv")
    if sd_col:
        table["npv_sd"] = _numeric(options[sd_col])
    if "rank" in options.columns:
        table["rank"] = _numeric(options["rank"])
    if (
        reps is not None
        and (entity := _entity_column(reps))
        and (npv_col := _col(reps, "npv", "npv_base"))
    ):
        from experiments.stats import mean_ci

        for i, opt in enumerate(table["option"]):
            x = _numeric(reps.loc[reps[entity] == opt, npv_col])
            if not np.isfinite(x).any():
                continue
            ci = mean_ci(x)
            if not np.isfinite(table.at[i, "npv"]):
                table.at[i, "npv"] = ci["mean"]
            if not np.isfinite(table.at[i, "low"]):
                table.at[i, "low"], table.at[i, "high"] = ci["low"], ci["high"]
            if "npv_sd" not in table.columns:
                table["npv_sd"] = np.nan
            if not np.isfinite(table.at[i, "npv_sd"]):
                table.at[i, "npv_sd"] = ci["sd"]
    return table


def _risk_return_chart(
    ctx: Context, options: pd.DataFrame | None, reps: pd.DataFrame | None
) -> list[Chart]:
    if options is None or options.empty:
        ctx.notes.append("options.csv: not found, no risk/return chart")
        return []
    table = _entry_metrics(ctx, options, reps)
    if not np.isfinite(table["npv"]).any():
        ctx.notes.append("options.csv: no NPV column, no risk/return chart")
        return []
    cur = ctx.currency
    risks = [
        ("cvar_loss", f"5% CVaR loss: -(mean of worst 5% profits) ({cur})", False),
        ("p_loss", "probability of loss (%)", True),
        ("npv_sd", f"standard deviation of NPV across replications ({cur})", False),
    ]
    risks = [r for r in risks if r[0] in table.columns and np.isfinite(table[r[0]]).any()]
    if not risks:
        ctx.notes.append("options.csv: no risk measure (cvar5_profit, p_loss, npv sd)")
        return []
    fig = _figure(5.4 * len(risks), 5.0)
    axes = fig.subplots(1, len(risks), squeeze=False, sharey=True).ravel()
    for ax, (col, label, share) in zip(axes, risks, strict=True):
        points: list[tuple[float, float, str]] = []
        for row in table.itertuples():
            x, y = getattr(row, col), row.npv
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            c = ctx.color(row.option)
            yerr = None
            if np.isfinite(row.low) and np.isfinite(row.high):
                yerr = [[y - row.low], [row.high - y]]
            ax.errorbar(x, y, yerr=yerr, fmt="o", color=c, capsize=4, ms=7, label=_t(row.option))
            rank = getattr(row, "rank", np.nan)
            text = f"#{int(rank)} {row.option}" if np.isfinite(rank) else str(row.option)
            points.append((x, y, text))
        ax.axhline(0.0, color="black", lw=1, ls=":", label="NPV = 0")
        ax.margins(x=0.12, y=0.08)
        if share:
            ax.set_xlim(-0.05, 1.05)  # probabilities: always the whole 0-100% scale
        lo, hi = ax.get_xlim()
        y_lo, y_hi = ax.get_ylim()
        groups: dict[tuple[float, float], tuple[float, float, list[str]]] = {}
        for x, y, text in points:  # options at the same spot share one label
            key = (round((x - lo) / (hi - lo), 3), round((y - y_lo) / (y_hi - y_lo), 3))
            groups.setdefault(key, (x, y, []))[2].append(text)
        for x, y, texts in groups.values():
            right = x > (lo + hi) / 2  # label towards the middle so no name leaves the chart
            ax.annotate(
                _t("\n".join(texts)),
                (x, y),
                textcoords="offset points",
                xytext=(-7 if right else 7, 4),
                ha="right" if right else "left",
                va="bottom",
                fontsize=8,
            )
        ax.set_xlabel(f"{label}, right = riskier")
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0) if share else FuncFormatter(_tick))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"NPV of net profit ({cur}), mean and 95% CI")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6))
    rate = ctx.summary.get("discount_rate_annual", ctx.summary.get("discount_rate"))
    rate_text = f" at {rate:.0%} a year" if isinstance(rate, int | float) else ""
    fig.suptitle(f"Entry options: risk vs return (NPV{rate_text})", fontsize=12)
    return [
        Chart(
            "entry_risk_return",
            "Entry options: risk vs return",
            "Options higher up earn more in expectation and options further left are safer, so "
            "the best candidates sit top-left and an option both lower and further right than "
            "another is dominated.",
            _png(fig),
        )
    ]


# ----------------------------------------------------------------------------- tables
def _fmt_number(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def _table(frame: pd.DataFrame | None, max_rows: int = MAX_TABLE_ROWS) -> str:
    if frame is None or frame.empty:
        return ""
    shown = frame.head(max_rows)
    text = shown.to_html(
        index=False,
        escape=True,
        border=0,
        classes="tbl",
        na_rep="-",
        float_format=_fmt_number,
    )
    if len(frame) > max_rows:
        text += f"<p class='note'>first {max_rows} of {len(frame)} rows; see the CSV file</p>"
    return text


def _kpi_rows(frame: pd.DataFrame | None, kpis: Sequence[str]) -> pd.DataFrame | None:
    if frame is None or "kpi" not in frame.columns:
        return frame
    part = frame[frame["kpi"].isin(kpis)].copy()
    part["_o"] = part["kpi"].map({k: i for i, k in enumerate(kpis)})
    sort = [c for c in ("variant", "region") if c in part.columns]
    return part.sort_values([*sort, "_o"], kind="stable").drop(columns="_o")


# ----------------------------------------------------------------------------- sections
def _replication_sections(ctx: Context) -> list[Section]:
    """``run --reps`` and ``compare``."""
    sections = []
    if ctx.command == "compare":
        diffs = ctx.csv("differences.csv")
        rank = ctx.csv("ranking.csv")
        s = Section("Comparison with the baseline")
        s.charts += _guard(ctx, "forest plot", lambda: _forest_chart(ctx, diffs))
        primary = str(ctx.summary.get("primary_kpi") or "net_profit_base")
        s.tables.append((f"Ranking on {primary} (region ALL) with P(best)", _table(rank)))
        kpis = list(dict.fromkeys([primary, *FOREST_KPIS]))
        s.tables.append(
            (
                "Paired differences vs baseline (95% CI, t-test p-value)",
                _table(_kpi_rows(diffs, kpis)),
            )
        )
        sections.append(s)
    reps = ctx.csv("replications.csv")
    s = Section("Outcome distributions")
    s.charts += _guard(
        ctx,
        "profit distribution",
        lambda: _distribution_chart(
            ctx, reps, ["net_profit_base"], "profit_distribution", "net profit over the horizon"
        ),
    )
    s.tables.append(
        (
            "KPI totals over the horizon: mean and 95% CI",
            _table(_kpi_rows(ctx.csv("summary_ci.csv"), TABLE_KPIS)),
        )
    )
    sections.append(s)
    s = Section("KPIs over time")
    s.charts += _guard(
        ctx, "time series", lambda: _timeseries_charts(ctx, ctx.csv("timeseries.csv"))
    )
    sections.append(s)
    return sections


def _single_sections(ctx: Context) -> list[Section]:
    """A plain one-replication ``marketsim run``."""
    kpis = ctx.csv("kpis.csv")
    name = str(ctx.summary.get("scenario") or "run")
    ts = _single_run_timeseries(kpis, name) if kpis is not None else None
    s = Section("KPIs over time (one replication)")
    s.charts += _guard(ctx, "time series", lambda: _timeseries_charts(ctx, ts))
    totals = ctx.summary.get("totals")
    if isinstance(totals, dict):
        frame = pd.DataFrame(totals).T.reset_index(names="region")
        s.tables.append(
            ("KPI totals", _table(frame[[c for c in ["region", *TABLE_KPIS] if c in frame]]))
        )
    return [s]


def _tune_sections(ctx: Context) -> list[Section]:
    trials = ctx.csv("trials.csv")
    imp = ctx.csv("importance.csv")
    pareto = ctx.csv("pareto.csv")
    s = Section("Tuning")
    s.charts += _guard(ctx, "tuning history", lambda: _tuning_charts(ctx, trials))
    s.charts += _guard(ctx, "parameter importance", lambda: _importance_chart(ctx, imp))
    s.charts += _guard(ctx, "Pareto front", lambda: _pareto_chart(ctx, trials, pareto))
    best = ctx.summary.get("best")
    rows: list[tuple[str, str]] = []
    if isinstance(best, dict):
        if best.get("number") is not None:
            rows.append(("trial", str(best["number"])))
        for k, v in (best.get("values") or {}).items():
            rows.append((f"objective {k}", _meta_value(v)))
        rows += [(str(k), _meta_value(v)) for k, v in (best.get("params") or {}).items()]
    elif ctx.summary.get("best_value") is not None:
        rows.append(("objective", _meta_value(ctx.summary["best_value"])))
    if isinstance(ctx.summary.get("best_params"), dict) and not isinstance(best, dict):
        rows += [(str(k), _meta_value(v)) for k, v in ctx.summary["best_params"].items()]
    if rows:
        frame = pd.DataFrame(rows, columns=["", "best trial"])
        s.tables.append(("Best trial (see best_strategies.yaml)", _table(frame)))
    if pareto is not None:
        s.tables.append(("Pareto-optimal trials", _table(pareto)))
    if trials is not None and (cols := _objective_columns(trials)):
        keep = [c for c in trials.columns if not str(c).startswith(("datetime_", "system_attrs_"))]
        top = trials[keep]
        if len(cols) == 1:
            sign = _directions(ctx, _objective_names(ctx, cols))[0]
            top = (
                top.assign(_v=_numeric(top[cols[0]]) * sign)
                .sort_values("_v", ascending=False, na_position="last")
                .drop(columns="_v")
            )
        s.tables.append(("Trials (best first)" if len(cols) == 1 else "Trials", _table(top, 20)))
    if imp is not None:
        s.tables.append(("Parameter importance", _table(imp)))
    return [s]


def _entry_sections(ctx: Context) -> list[Section]:
    options = ctx.csv("options.csv")
    reps = ctx.csv("replications.csv")
    s = Section("Market-entry options")
    s.charts += _guard(ctx, "risk/return chart", lambda: _risk_return_chart(ctx, options, reps))
    s.charts += _guard(
        ctx,
        "NPV distribution",
        lambda: _distribution_chart(
            ctx, reps, ["npv", "npv_base"], "npv_distribution", "NPV of net profit"
        ),
    )
    s.charts += _guard(
        ctx,
        "profit distribution",
        lambda: _distribution_chart(
            ctx,
            reps,
            ["net_profit_base", "total_net_profit", "net_profit", "profit"],
            "profit_distribution",
            "net profit over the horizon",
        ),
    )
    if options is not None:
        if "rank" in options.columns:
            options = options.sort_values("rank", kind="stable")
        s.tables.append(("Entry options, ranked", _table(options)))
    t = Section("KPIs over time")
    t.charts += _guard(
        ctx, "time series", lambda: _timeseries_charts(ctx, ctx.csv("timeseries.csv"))
    )
    return [s, t]


_BUILDERS: dict[str, Callable[[Context], list[Section]]] = {
    "run": _replication_sections,
    "compare": _replication_sections,
    "single": _single_sections,
    "tune": _tune_sections,
    "entry": _entry_sections,
}


# ----------------------------------------------------------------------------- HTML
CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;
margin-top:2em}h3{font-size:1.05em;margin:1.2em 0 .4em}
table.meta td{padding:2px 14px 2px 0;vertical-align:top}table.meta td:first-child{color:#666}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.92em;color:#333;margin-top:.3em}figcaption b{color:#000}
table.tbl{border-collapse:collapse;font-size:.85em;margin:.3em 0 1em}
table.tbl th,table.tbl td{border-bottom:1px solid #e3e3e3;padding:3px 8px;text-align:right}
table.tbl th{background:#f5f5f5}table.tbl td:first-child,table.tbl th:first-child{text-align:left}
.note{color:#777;font-size:.85em}ul.read li{margin-bottom:.3em}
"""


def _meta_rows(ctx: Context) -> list[tuple[str, str]]:
    s = ctx.summary
    scenario = s.get("scenario") or s.get("scenarios") or s.get("options_file") or "-"
    if isinstance(scenario, list):
        scenario = ", ".join(
            str(x.get("name") or x.get("file") if isinstance(x, dict) else x) for x in scenario
        )
    created = ctx.manifest.get("created") or s.get("created") or "-"
    updated = ctx.manifest.get("updated") or s.get("finished") or ""
    primary = s.get("primary_kpi") or s.get("objective") or "-"
    if ctx.command == "tune" and (objectives := _summary_objectives(ctx)):
        primary = ", ".join(f"{k} ({d})" if d else k for k, d in objectives)
    command = "run (single replication)" if ctx.command == "single" else ctx.command
    rows = [
        ("command", f"marketsim {command}"),
        ("scenario", str(scenario)),
        ("results from", f"{created}" + (f" (last update {updated})" if updated else "")),
        ("report generated", datetime.now(UTC).isoformat(timespec="seconds")),
        ("replications", str(s.get("reps", s.get("n_reps", "-")))),
        ("primary KPI / objective", str(primary)),
        ("baseline", _baseline_text(s.get("baseline"))),
        ("amounts in", ctx.currency),
    ]
    shown = {
        "command",
        "scenario",
        "scenarios",
        "reps",
        "primary_kpi",
        "objective",
        "objectives",
        "baseline",
        "currency",
        "base_currency",
    }
    for key, value in s.items():
        if key in shown:
            continue
        if isinstance(value, str | int | float | bool) or value is None:
            rows.append((key, _meta_value(value)))
        elif (
            isinstance(value, list)
            and len(value) <= 12
            and all(isinstance(v, str | int | float | bool) for v in value)
        ):
            rows.append((key, ", ".join(_meta_value(v) for v in value)))
        elif (
            isinstance(value, dict)
            and 0 < len(value) <= 12
            and all(isinstance(v, str | int | float | bool) or v is None for v in value.values())
        ):
            rows.append((key, "; ".join(f"{k}: {_meta_value(v)}" for k, v in value.items())))
    return rows


def _baseline_text(baseline: Any) -> str:
    if isinstance(baseline, dict):  # tune: the trial with the scenario's own strategies
        values = baseline.get("values")
        shown = ", ".join(_meta_value(v) for v in values) if isinstance(values, list) else ""
        return (
            f"trial {baseline.get('number')} ({baseline.get('state', '')}), the scenario's own "
            f"strategies" + (f": {shown}" if shown else "")
        )
    return str(baseline or "-")


def _meta_value(value: Any) -> str:
    if isinstance(value, float):
        return _fmt_number(value)
    return "-" if value is None else str(value)


def _html(ctx: Context, sections: list[Section]) -> str:
    e = html.escape
    charts = [c for s in sections for c in s.charts]
    title = f"marketsim {ctx.command} report: {ctx.summary.get('scenario') or ctx.out.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        '<table class="meta">',
        *(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in _meta_rows(ctx)),
        "</table>",
    ]
    if charts:
        parts.append("<h2>How to read this</h2><ul class='read'>")
        parts += [f"<li><b>{e(c.title)}</b>: {e(c.how_to_read)}</li>" for c in charts]
        parts.append("</ul>")
    for section in sections:
        if not section.charts and not any(t for _, t in section.tables):
            continue
        parts.append(f"<h2>{e(section.title)}</h2>")
        for c in section.charts:
            data = base64.b64encode(c.png).decode("ascii")
            parts.append(
                f'<figure id="{e(c.name)}"><img src="data:image/png;base64,{data}" '
                f'alt="{e(c.title)}"><figcaption><b>{e(c.title)}</b> ({e(c.name)}.png). '
                f"How to read this: {e(c.how_to_read)}</figcaption></figure>"
            )
        for caption, table in section.tables:
            if table:
                parts.append(f"<h3>{e(caption)}</h3>{table}")
    if ctx.notes:
        parts.append("<h2>Notes</h2><ul>")
        parts += [f"<li class='note'>{e(n)}</li>" for n in ctx.notes]
        parts.append("</ul>")
    parts.append(
        f"<p class='note'>Written by marketsim report from {e(str(ctx.out))}; every chart is "
        "also saved as a PNG next to this file.</p></body></html>"
    )
    return "\n".join(parts) + "\n"
