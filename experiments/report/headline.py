"""The report's first screen: the recommendation and how sure it is, read from the folder."""

from __future__ import annotations

from experiments.report.context import Context
from experiments.report.decision import Headline, compare_headline, entry_headline


def horizon_days(ctx: Context) -> int:
    """Days simulated per replication, from the time series (0 when unknown)."""
    ts = ctx.table("timeseries.csv")
    return int(ts["day"].max()) + 1 if ts is not None and len(ts) else 0


def headline_for(ctx: Context) -> Headline | None:
    """The decision of a ``compare`` or ``entry`` folder (None for other commands)."""
    if ctx.command == "compare":
        reps, ranking = ctx.table("replications.csv"), ctx.table("ranking.csv")
        if reps is None or ranking is None or ranking.empty:
            return None
        primary = str(ctx.summary["primary_kpi"])
        baseline = str(ctx.summary.get("baseline") or ranking["variant"].iloc[0])
        return compare_headline(reps, ranking, baseline, primary, horizon_days(ctx), ctx.currency)
    if ctx.command == "entry":
        options, reps = ctx.table("options.csv"), ctx.table("replications.csv")
        if options is None or reps is None or options.empty:
            return None
        return entry_headline(options, reps, ctx.currency)
    return None
