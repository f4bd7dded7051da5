"""`marketsim report OUT`: one self-contained HTML report plus PNG charts from a result folder.

Reads what ``run``, ``run --reps``, ``compare``, ``tune`` and ``entry`` wrote under ``OUT``
through the declared output schema (:mod:`experiments.outputs`) and writes
``OUT/report/report.html`` (every chart embedded as a base64 PNG, rendered with Jinja2 from
``templates/``) plus ``OUT/report/<chart>.png``. A missing optional file leaves its section
out (listed under "Notes"); a malformed one is a :class:`~sim.errors.DataError`.
"""

from __future__ import annotations

from experiments.report.context import ReportError
from experiments.report.parts import Chart, Section
from experiments.report.writer import REPORT_DIR, REPORT_FILE, Report, build_report, write_report

__all__ = [
    "REPORT_DIR",
    "REPORT_FILE",
    "Chart",
    "Report",
    "ReportError",
    "Section",
    "build_report",
    "write_report",
]
