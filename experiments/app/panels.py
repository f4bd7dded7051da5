"""The app's secondary panels: tables, exports, entry options, browsing an output folder."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara
import solara.lab
import yaml

from experiments.app import levers as lv
from experiments.app.jobs import WhatIfResult
from experiments.outputs import outputs_of
from experiments.report.parts import HtmlTable

EXAMPLE_OPTIONS = Path(__file__).resolve().parents[2] / "examples" / "entry_options.yaml"

entry_path = solara.reactive(str(EXAMPLE_OPTIONS) if EXAMPLE_OPTIONS.is_file() else "")
entry_reps = solara.reactive(4)
browse_path = solara.reactive("")
browse_html = solara.reactive("")


def table_html(table: HtmlTable) -> str:
    """A table as escaped HTML that scrolls inside its box."""
    cell = "padding:2px 8px;border-bottom:1px solid #e3e3e3;text-align:right"
    head = "".join(f'<th style="{cell}">{html.escape(h)}</th>' for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{cell}">{html.escape(v)}</td>' for v in row) + "</tr>"
        for row in table.rows
    )
    style = "border-collapse:collapse;font-size:.85em"
    return (
        f'<div style="max-width:100%;overflow-x:auto"><table style="{style}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


@solara.component
def Table(table: HtmlTable, name: str) -> None:
    """An :class:`HtmlTable` on the page."""
    solara.HTML(tag="div", unsafe_innerHTML=table_html(table), classes=[f"table-{name}"])


def report_html(result: WhatIfResult) -> str:
    """The comparison's HTML report (written to a temporary folder, then read)."""
    from experiments.report import build_report

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "compare"
        result.comparison.write(out)  # type: ignore[union-attr]
        return build_report(out).html


@solara.component
def Exports(result: WhatIfResult) -> None:
    """Download the variant as a variants file (and the world as a scenario), the report."""
    job = result.inputs
    text = lv.variants_yaml(job.baseline, job.variant)
    with solara.Row(classes=["exports"]):
        solara.FileDownload(text, filename="variants.yaml", label="variants.yaml")
        if job.variant_world != job.base:
            world = yaml.safe_dump(job.variant_world.model_dump(mode="json"), sort_keys=False)
            solara.FileDownload(world, filename="variant_scenario.yaml", label="scenario")
        if result.comparison is not None:
            solara.FileDownload(
                lambda: report_html(result), filename="report.html", label="HTML report"
            )
    if job.variant_world != job.base:
        solara.Text(
            "The variant changes the world (budgets, entry, fulfilment): compare it with "
            "`marketsim run --reps` on the exported scenario; a variants file holds strategies.",
        )
    solara.HTML(tag="pre", unsafe_innerHTML=html.escape(text), classes=["variants-yaml"])


@solara.lab.task
def entry_task() -> Any:
    """Rank the entry options of the file in the box (background)."""
    import marketsim as ms

    return ms.rank_entry_options(entry_path.value, reps=entry_reps.value, workers=1)


@solara.component
def EntryPanel(show_error: Callable[[BaseException], None]) -> None:
    """Rank entry options; headline, table and the risk/return chart."""
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.InputText("entry options file", value=entry_path, classes=["entry-path"])
        solara.InputInt("replications", value=entry_reps)
        solara.Button("Rank options", on_click=entry_task, disabled=entry_task.pending)
    if entry_task.pending:
        solara.ProgressLinear(True)
    if entry_task.error:
        show_error(entry_task.exception)
    elif entry_task.value is not None:
        try:
            EntryResult(entry_task.value)
        except Exception as exc:  # shown, never a traceback
            show_error(exc)


@solara.component
def EntryResult(ranking: Any) -> None:
    """The ranked options as the report shows them."""
    from experiments.report.context import Context
    from experiments.report.decision import entry_headline
    from experiments.report.entry import risk_return_chart
    from experiments.report.tables import html_table

    currency = ranking.source.scenario.currency
    head = entry_headline(ranking.table, ranking.per_rep, currency)
    for line in head.lines():
        solara.Text(line, classes=["entry-headline"])
    declared = outputs_of("entry").table("options.csv")
    Table(html_table("", ranking.table, declared, currency), "entry")
    ctx = Context(
        Path("."), {"discount_rate_annual": ranking.discount_rate_annual}, {}, "entry", currency
    )
    for chart in risk_return_chart(ctx, ranking.table):
        solara.Image(chart.png)


def open_folder(path: str) -> str:
    """The HTML report of a finished compare/entry/tune/run folder."""
    from experiments.report import build_report

    return build_report(Path(path).expanduser()).html


@solara.component
def BrowsePanel(show_error: Callable[[BaseException], None]) -> None:
    """Open an output folder and show its report."""

    def do_open() -> None:
        try:
            browse_html.set(open_folder(browse_path.value))
        except Exception as exc:  # shown, never a traceback
            browse_html.set("")
            show_error(exc)

    with solara.Row():
        solara.InputText("output folder", value=browse_path, classes=["browse-path"])
        solara.Button("Open", on_click=do_open, classes=["browse-button"])
    if browse_html.value:
        solara.HTML(
            tag="iframe",
            attributes={"srcdoc": browse_html.value, "title": "report"},
            style="width:100%;height:900px;border:1px solid #ddd",
            classes=["browse-report"],
        )
