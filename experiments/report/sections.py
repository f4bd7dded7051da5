"""Which sections a report has, per command that wrote the folder."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from experiments.report.context import Context
from experiments.report.differences import FOREST_KPIS, distribution_chart, forest_chart
from experiments.report.entry import entry_sections
from experiments.report.explore import explore_sections
from experiments.report.parts import Section
from experiments.report.tables import TABLE_KPIS, html_table, kpi_rows, kpi_with_unit
from experiments.report.timeseries import single_run_timeseries, timeseries_charts
from experiments.report.tuning import objectives, tune_sections


def replication_sections(ctx: Context) -> list[Section]:
    """``run --reps`` and ``compare``: differences (compare), distributions, time series."""
    sections = []
    if ctx.command == "compare":
        sections.append(_comparison(ctx))
    s = Section("Outcome distributions")
    reps = ctx.table("replications.csv")
    if reps is not None:
        s.charts += distribution_chart(
            ctx, reps, "net_profit_base", "profit_distribution", "net profit over the horizon"
        )
    s.tables.append(
        html_table(
            "KPI totals over the horizon: mean and 95% CI",
            kpi_rows(ctx.table("summary_ci.csv"), TABLE_KPIS),
            ctx.declared("summary_ci.csv"),
            ctx.currency,
        )
    )
    sections.append(s)
    t = Section("KPIs over time")
    ts = ctx.table("timeseries.csv")
    if ts is None:
        ctx.notes.append("timeseries.csv: not found, no time-series charts")
    else:
        t.charts += timeseries_charts(ctx, ts, "variant")
    return [*sections, t]


def _comparison(ctx: Context) -> Section:
    diffs = ctx.table("differences.csv")
    s = Section("Comparison with the baseline")
    if diffs is not None:
        s.charts += forest_chart(ctx, diffs)
    primary = str(ctx.summary["primary_kpi"])
    s.tables.append(
        html_table(
            f"Ranking on {kpi_with_unit(primary, ctx.currency)} (all regions) with P(best), "
            "the probability of the best mean",
            ctx.table("ranking.csv"),
            ctx.declared("ranking.csv"),
            ctx.currency,
        )
    )
    s.tables.append(
        html_table(
            "Paired differences vs baseline (95% CI, t-test p-value)",
            kpi_rows(diffs, list(dict.fromkeys([primary, *FOREST_KPIS]))),
            ctx.declared("differences.csv"),
            ctx.currency,
        )
    )
    return s


def single_sections(ctx: Context) -> list[Section]:
    """A plain one-replication ``marketsim run``."""
    kpis = ctx.table("kpis.csv")
    s = Section("KPIs over time (one replication)")
    if kpis is not None:
        ts = single_run_timeseries(kpis, str(ctx.summary.get("scenario") or "run"))
        s.charts += timeseries_charts(ctx, ts, "variant", band=False)
    totals = ctx.summary["totals"]
    frame = pd.DataFrame(totals).T.reset_index(names="region")
    s.tables.append(
        html_table(
            "KPI totals",
            frame[["region", *TABLE_KPIS]],
            ctx.declared("kpis.csv"),
            ctx.currency,
        )
    )
    return [s]


BUILDERS: dict[str, Callable[[Context], list[Section]]] = {
    "run": single_sections,
    "run --reps": replication_sections,
    "compare": replication_sections,
    "tune": tune_sections,
    "entry": entry_sections,
    "explore": explore_sections,
}


def sections_for(ctx: Context) -> list[Section]:
    """The report's sections for the command that wrote ``ctx.out``."""
    return BUILDERS[ctx.command](ctx)


def objectives_of(ctx: Context) -> list[tuple[str, str]]:
    """``(kpi, direction)`` of a tuning folder (empty for other commands)."""
    return objectives(ctx) if ctx.command == "tune" else []
