"""`marketsim run --reps` and `marketsim compare`: CRN replications, CIs, paired differences."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.cli.common import add_executor_args, fmt_number, print_report
from experiments.results import write_csv, write_json
from experiments.runner import (
    Executor,
    ReplicationTask,
    ResultStore,
    make_executor,
    run_replications,
    strategies_dict,
    with_strategies,
)
from experiments.scenario_io import file_sha256, load_scenario
from experiments.stats import (
    paired_differences,
    probability_best,
    ranking,
    replication_totals,
    summarize,
)
from experiments.variants import load_variants
from sim.errors import Problem, ScenarioError
from sim.kpis import KPI_BY_NAME, KPIS
from sim.scenario import Scenario

TIMESERIES_KPIS = (
    "net_profit_base",
    "revenue_base",
    "units",
    "market_share",
    "active_customers",
    "aware_share",
    "on_time_rate",
)
CUMULATIVE = {"net_profit_base", "revenue_base", "units"}


def check_kpi(name: str, what: str = "--objective") -> str:
    """Refuse an unknown KPI name with the list of valid ones."""
    if name not in KPI_BY_NAME:
        raise ScenarioError(
            [Problem(what, "", f"unknown KPI {name!r}; valid: {sorted(KPI_BY_NAME)}")]
        )
    return name


def build_tasks(
    variants: Mapping[str, Scenario],
    scenario_index: int,
    sha: str,
    reps: range,
    seed: int,
    days: int,
) -> list[ReplicationTask]:
    """Tasks for every variant x replication (rep-major so early results cover all variants)."""
    return [
        ReplicationTask(sc, scenario_index, sha, name, k, seed, days)
        for k in reps
        for name, sc in variants.items()
    ]


def timeseries(frames: Mapping[tuple[str, int], pd.DataFrame]) -> pd.DataFrame:
    """Per variant, region and day: mean and 5%-95% band across replications."""
    rows = []
    by_variant: dict[str, list[pd.DataFrame]] = {}
    for (variant, _rep), frame in frames.items():
        by_variant.setdefault(variant, []).append(frame)
    for variant, group in by_variant.items():
        for kpi in TIMESERIES_KPIS:
            stack = []
            for frame in group:
                wide = frame.pivot(index="day", columns="region", values=kpi)
                stack.append(wide.cumsum() if kpi in CUMULATIVE else wide)
            arr = np.stack([s.to_numpy(dtype=float) for s in stack])
            template = stack[0]
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days (no deliveries)
                mean = np.nanmean(arr, axis=0)
                low = np.nanquantile(arr, 0.05, axis=0)
                high = np.nanquantile(arr, 0.95, axis=0)
            for j, region in enumerate(template.columns):
                rows.append(
                    pd.DataFrame(
                        {
                            "variant": variant,
                            "region": region,
                            "kpi": kpi + ("_cumulative" if kpi in CUMULATIVE else ""),
                            "day": template.index.to_numpy(),
                            "mean": mean[:, j],
                            "low": low[:, j],
                            "high": high[:, j],
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _scenario_meta(path: str, scenario: Scenario) -> dict[str, Any]:
    return {"index": 0, "file": str(path), "sha256": file_sha256(path), "name": scenario.name}


def _run_variants(
    args: argparse.Namespace,
    scenario: Scenario,
    variants: dict[str, Scenario],
    store: ResultStore,
    executor: Executor,
    reps: range,
) -> dict[tuple[str, int], pd.DataFrame]:
    sha = file_sha256(args.scenario)
    seed = scenario.seed if args.seed is None else args.seed
    days = scenario.horizon_days if args.days is None else args.days
    tasks = build_tasks(variants, 0, sha, reps, seed, days)
    by_key = run_replications(tasks, executor, store, desc=args.command)
    return {(t.variant, t.rep): by_key[t.key] for t in tasks}


def cmd_run_reps(args: argparse.Namespace) -> int:
    """``marketsim run SCENARIO --reps K``: means with 95% CIs per region and overall."""
    scenario = load_scenario(args.scenario)
    executor = make_executor(args.executor, args.workers, scheduler=args.scheduler)
    out = Path(args.out)
    store = ResultStore.open(
        out,
        "run",
        {
            "scenarios": [_scenario_meta(args.scenario, scenario)],
            "variants": {"scenario": strategies_dict(scenario)},
        },
    )
    with executor:  # stop its workers (or cluster) once the replications are in
        frames = _run_variants(
            args, scenario, {"scenario": scenario}, store, executor, range(args.reps)
        )
    per_rep = replication_totals(frames, ("variant", "rep"))
    summary = summarize(per_rep, ["region"])
    write_csv(out, "replications.csv", per_rep)
    write_csv(out, "summary_ci.csv", summary)
    write_csv(out, "timeseries.csv", timeseries(frames))
    mean_daily = (
        pd.concat(frames.values()).groupby(["day", "region"], sort=False).mean(numeric_only=True)
    )
    write_csv(out, "kpis.csv", mean_daily.reset_index())
    table = {
        region: {
            row.kpi: {"mean": row.mean, "low": row.low, "high": row.high} for row in g.itertuples()
        }
        for region, g in summary.groupby("region", sort=False)
    }
    write_json(
        out,
        "summary.json",
        {
            "command": "run",
            "scenario": scenario.name,
            "scenario_sha256": file_sha256(args.scenario),
            "reps": args.reps,
            "seed_rule": "SeedSequence([seed, 0, k])",
            "seed": scenario.seed if args.seed is None else args.seed,
            "confidence": 0.95,
            "totals": table,
        },
    )
    print(format_ci_table(summary, scenario, args.reps))
    print(f"(written to {out}/summary_ci.csv, replications.csv, kpis.csv, summary.json)")
    return 0


def format_ci_table(summary: pd.DataFrame, scenario: Scenario, reps: int) -> str:
    """KPI means with 95% CIs, one block per region."""
    shown = [
        "revenue_base",
        "net_profit_base",
        "units",
        "market_share",
        "customers",
        "churned_customers",
        "on_time_rate",
        "fill_rate",
    ]
    lines = [f"{scenario.name}: {reps} replications, mean [95% CI], amounts in {scenario.currency}"]
    for region, g in summary.groupby("region", sort=False):
        lines.append(f"  {region}")
        g = g.set_index("kpi")
        for k in shown:
            r = g.loc[k]
            low, high = fmt_number(r["low"]), fmt_number(r["high"])
            lines.append(f"    {k:<22}{fmt_number(r['mean'])} [{low}, {high}]")
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    """``marketsim compare``: paired differences vs a baseline, P(best), ranking."""
    scenario = load_scenario(args.scenario)
    primary = check_kpi(args.kpi, "--kpi")
    vfile = load_variants(args.variants, scenario)
    names = [v.name for v in vfile.variants]
    baseline = vfile.baseline or names[0]
    variants = {v.name: with_strategies(scenario, v.strategies()) for v in vfile.variants}
    executor = make_executor(args.executor, args.workers, scheduler=args.scheduler)
    out = Path(args.out)
    store = ResultStore.open(
        out,
        "compare",
        {
            "scenarios": [_scenario_meta(args.scenario, scenario)],
            "variants": {n: strategies_dict(sc) for n, sc in variants.items()},
            "baseline": baseline,
            "primary_kpi": primary,
        },
    )
    with executor:  # stop its workers (or cluster) once the replications are in
        if args.precision is None:
            reps = args.reps
            frames = _run_variants(args, scenario, variants, store, executor, range(reps))
            stopped = "fixed"
        else:
            reps = max(args.min_reps, 2)
            while True:
                frames = _run_variants(args, scenario, variants, store, executor, range(reps))
                per_rep = replication_totals(frames, ("variant", "rep"))
                worst = _worst_relative_half_width(per_rep, primary)
                if worst <= args.precision:
                    stopped = "precision reached"
                    break
                if reps >= args.max_reps:
                    stopped = "cap reached"
                    break
                # batches of --min-reps, whatever the executor: same stopping point everywhere
                reps = min(args.max_reps, reps + args.min_reps)
    per_rep = replication_totals(frames, ("variant", "rep"))
    kpis = [k.name for k in KPIS]
    summary = summarize(per_rep, ["variant", "region"])
    diffs = paired_differences(per_rep, baseline, kpis)
    rank = ranking(per_rep, primary)
    p_best = {
        k: probability_best(per_rep, k).to_dict()
        for k in kpis
        if KPI_BY_NAME[k].direction != "none"
    }
    write_csv(out, "replications.csv", per_rep)
    write_csv(out, "summary_ci.csv", summary)
    write_csv(out, "differences.csv", diffs)
    write_csv(out, "ranking.csv", rank)
    write_csv(out, "timeseries.csv", timeseries(frames))
    precision = {
        "target": args.precision,
        "reps": reps,
        "stopped": stopped,
        "worst_relative_half_width": _worst_relative_half_width(per_rep, primary),
    }
    write_json(
        out,
        "summary.json",
        {
            "command": "compare",
            "scenario": scenario.name,
            "currency": scenario.currency,
            "primary_kpi": primary,
            "baseline": baseline,
            "variants": names,
            "reps": reps,
            "precision": precision,
            "ranking": rank.to_dict(orient="records"),
            "differences_primary": diffs[diffs["kpi"] == primary].to_dict(orient="records"),
            "p_best": p_best,
        },
    )
    print(format_comparison(rank, diffs, primary, baseline, reps, precision, scenario))
    print_report(out)
    return 0


def _worst_relative_half_width(per_rep: pd.DataFrame, kpi: str) -> float:
    data = per_rep[per_rep["region"] == "ALL"]
    worst = 0.0
    for _, g in data.groupby("variant"):
        x = g[kpi].to_numpy(dtype=float)
        if len(x) < 2:
            return float("inf")
        from experiments.stats import mean_ci

        ci = mean_ci(x)
        rel = ci["half_width"] / abs(ci["mean"]) if ci["mean"] else float("inf")
        worst = max(worst, rel)
    return worst


def format_comparison(
    rank: pd.DataFrame,
    diffs: pd.DataFrame,
    primary: str,
    baseline: str,
    reps: int,
    precision: dict[str, Any],
    scenario: Scenario,
) -> str:
    """Ranking and paired differences for the primary KPI."""
    lines = [
        f"{scenario.name}: {len(rank)} variants x {reps} paired replications "
        f"({precision['stopped']}), primary KPI {primary}, baseline {baseline!r}",
        f"{'rank':<5}{'variant':<24}{'mean':>14}{'95% CI':>28}{'P(best)':>9}"
        f"{'diff vs base':>15}{'95% CI':>28}",
    ]
    d = diffs[diffs["kpi"] == primary].set_index("variant")
    for row in rank.itertuples():
        ci = f"[{fmt_number(row.low)}, {fmt_number(row.high)}]"
        if row.variant in d.index:
            dr = d.loc[row.variant]
            dd, dci = fmt_number(dr["mean"]), f"[{fmt_number(dr['low'])}, {fmt_number(dr['high'])}]"
        else:
            dd, dci = "(baseline)", ""
        lines.append(
            f"{row.rank:<5}{row.variant:<24}{fmt_number(row.mean):>14}{ci:>28}{row.p_best:>9.2f}"
            f"{dd:>15}{dci:>28}"
        )
    return "\n".join(lines)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``compare``."""
    cmp_ = sub.add_parser("compare", help="compare strategy variants on paired replications")
    cmp_.add_argument("scenario", help="scenario YAML file")
    cmp_.add_argument("--variants", required=True, help="variants YAML file")
    group = cmp_.add_mutually_exclusive_group()
    group.add_argument("--reps", type=int, default=20, help="replications per variant")
    group.add_argument(
        "--precision",
        type=float,
        default=None,
        help="add paired replications until the primary KPI's 95%% CI half-width is within "
        "this share of its mean",
    )
    cmp_.add_argument("--min-reps", type=int, default=10, help="first batch with --precision")
    cmp_.add_argument("--max-reps", type=int, default=200, help="cap with --precision")
    cmp_.add_argument("--kpi", default="net_profit_base", help="primary KPI")
    cmp_.add_argument("--days", type=int, default=None)
    cmp_.add_argument("--seed", type=int, default=None)
    cmp_.add_argument("--out", default="results/compare")
    add_executor_args(cmp_)
    cmp_.set_defaults(func=cmd_compare)
