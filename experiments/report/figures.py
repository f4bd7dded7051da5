"""Matplotlib helpers shared by the chart sections: figures, PNGs, axis formats, KPI labels."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from experiments import outputs
from sim.kpis import KPI_BY_NAME

DPI = 110


def palette() -> list[Any]:
    """Colours for variants and options, in order."""
    from matplotlib import colormaps

    return list(colormaps["tab10"].colors) + list(colormaps["Dark2"].colors)


def mpl_text(text: Any) -> str:
    """Text safe for matplotlib (no mathtext from ``$`` in user names)."""
    return str(text).replace("$", r"\$")


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free figure (rendered with Agg, so text extents can be measured)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    fig.clear()
    return buf.getvalue()


def safe_name(text: str) -> str:
    """A file-name stem from any text."""
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text))
    return keep[:60] or "x"


def base_kpi(name: str) -> str:
    """The catalogue KPI of a time-series KPI (``x_cumulative`` -> ``x``)."""
    return name.removesuffix("_cumulative")


def kpi_label(name: str) -> str:
    """Readable KPI name for axes and titles."""
    label = outputs.kpi_label(base_kpi(name))
    return f"cumulative {label}" if name.endswith("_cumulative") else label


def kpi_unit(name: str, currency: str) -> str:
    """The unit shown beside a KPI: the currency for amounts, % for shares."""
    kpi = KPI_BY_NAME.get(base_kpi(name))
    if kpi is None:
        return "value"
    return {"base": currency, "share": "%"}.get(kpi.unit, kpi.unit)


def is_share(name: str) -> bool:
    """Whether a KPI is a share (drawn in percent)."""
    kpi = KPI_BY_NAME.get(base_kpi(name))
    return kpi is not None and kpi.unit == "share"


def direction(kpi: str) -> float:
    """+1 larger is better, -1 smaller is better, 0 unknown."""
    kpi_def = KPI_BY_NAME.get(base_kpi(kpi))
    if kpi_def is None:
        return 0.0
    return {"maximize": 1.0, "minimize": -1.0}.get(kpi_def.direction, 0.0)


def tick(value: float, _pos: int | None = None) -> str:
    """Thousands separators for large numbers, 3 significant digits otherwise."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_axis(axis: Any, kpi: str) -> None:
    """Percent for shares, thousands separators otherwise; at most ~6 ticks."""
    axis.set_major_locator(MaxNLocator(nbins=5))
    if is_share(kpi):
        axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
    else:
        axis.set_major_formatter(FuncFormatter(tick))


def regions_all_first(regions: Any) -> list[str]:
    """Distinct regions in order of appearance, ``ALL`` first."""
    regions = list(dict.fromkeys(regions))
    return (["ALL"] if "ALL" in regions else []) + [r for r in regions if r != "ALL"]


def numeric(series: pd.Series) -> np.ndarray:
    """A numeric column as a float array."""
    return series.to_numpy(dtype=float)
