"""Build a report from a result folder (nothing written) and write it (PNGs, then the HTML)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from experiments.report.context import load_context
from experiments.report.html import render_html
from experiments.report.parts import Chart
from experiments.report.sections import objectives_of, sections_for
from experiments.results import atomic_write, safe_path, write_text

REPORT_DIR = "report"
REPORT_FILE = "report.html"


@dataclass(frozen=True)
class Report:
    """A rendered report: the HTML page, its charts and the notes about skipped parts."""

    out: Path
    html: str
    charts: tuple[Chart, ...]
    notes: tuple[str, ...]

    def write(self, out: str | Path | None = None) -> Path:
        """Write ``<out>/report/*.png`` then ``<out>/report/report.html`` (atomically).

        PNGs from an earlier report of the folder that this one does not draw are removed.
        Returns the path of the HTML file.
        """
        out = Path(out) if out is not None else self.out
        report_dir = safe_path(out, REPORT_DIR)
        written = set()
        for chart in self.charts:
            path = safe_path(report_dir, f"{chart.name}.png")
            atomic_write(path, lambda p, data=chart.png: p.write_bytes(data))
            written.add(path.name)
        for stale in report_dir.glob("*.png") if report_dir.is_dir() else ():
            if stale.name not in written:
                stale.unlink(missing_ok=True)
        return write_text(out, f"{REPORT_DIR}/{REPORT_FILE}", self.html)


def build_report(out: str | Path) -> Report:
    """Read a result folder and render its report (writes nothing).

    Raises:
        ReportError: ``out`` is not a marketsim output folder.
        DataError: a table in it lacks a declared column or holds the wrong type.
    """
    ctx = load_context(Path(out))
    sections = sections_for(ctx)
    html = render_html(ctx, sections, objectives_of(ctx))
    charts = tuple(c for s in sections for c in s.charts)
    return Report(ctx.out, html, charts, tuple(ctx.notes))


def write_report(out: str | Path) -> Path:
    """Write ``OUT/report/report.html`` (self-contained) and ``OUT/report/*.png``.

    Raises:
        ReportError: ``OUT`` has no readable ``summary.json`` of a marketsim command.
    """
    return build_report(out).write()
