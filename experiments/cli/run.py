"""`marketsim run`: one run (or `--reps K` CRN replications) of a scenario; prints KPI totals."""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli.common import add_executor_args, add_output_args, fmt_number, open_executor

SUMMARY_COLUMNS = (
    ("revenue_base", "revenue", "{:,.0f}"),
    ("net_profit_base", "net profit", "{:,.0f}"),
    ("units", "units", "{:,.0f}"),
    ("market_share", "share", "{:.1%}"),
    ("customers", "customers", "{:,.0f}"),
    ("active_customers", "active", "{:,.0f}"),
    ("repeat_purchase_rate", "repeat", "{:.1%}"),
    ("mean_delivery_days", "deliv d", "{:.1f}"),
    ("on_time_rate", "on time", "{:.1%}"),
    ("fill_rate", "fill", "{:.1%}"),
    ("return_rate", "returns", "{:.1%}"),
    ("cac_base", "CAC", "{:,.1f}"),
)
CI_KPIS = (
    "revenue_base",
    "net_profit_base",
    "units",
    "market_share",
    "customers",
    "churned_customers",
    "on_time_rate",
    "fill_rate",
)


def format_summary(table: dict[str, dict[str, float]], title: str) -> str:
    """A fixed-width KPI summary, one line per region and one for ALL."""
    header = f"{'region':<8}" + "".join(f"{label:>12}" for _, label, _ in SUMMARY_COLUMNS)
    lines = [title, header, "-" * len(header)]
    for region, row in table.items():
        cells = []
        for key, _, fmt in SUMMARY_COLUMNS:
            v = row.get(key, float("nan"))
            cells.append(f"{'-' if v != v else fmt.format(v):>12}")
        lines.append(f"{region:<8}" + "".join(cells))
    return "\n".join(lines)


def format_ci_table(result) -> str:
    """KPI means with 95% CIs, one block per region (a :class:`Replications`)."""
    sc = result.source.scenario
    lines = [f"{sc.name}: {result.reps} replications, mean [95% CI], amounts in {sc.currency}"]
    for region, g in result.summary.groupby("region", sort=False):
        lines.append(f"  {region}")
        g = g.set_index("kpi")
        for k in CI_KPIS:
            r = g.loc[k]
            low, high = fmt_number(r["low"]), fmt_number(r["high"])
            lines.append(f"    {k:<22}{fmt_number(r['mean'])} [{low}, {high}]")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """Handler of ``marketsim run``."""
    if args.reps is not None:
        return _run_reps(args)
    from experiments.simulate import check_transactions_path, simulate

    out = Path(args.out)
    if args.transactions:  # refused before the run, not after it
        check_transactions_path(args.transactions, force=args.force)
    result = simulate(args.scenario, seed=args.seed, days=args.days, out=out, force=args.force)
    if args.transactions:
        result.write_transactions(args.transactions, args.start_date, force=args.force)
    sc = result.source.scenario
    title = (
        f"{sc.name}: {result.days} days, seed {result.seed}, amounts in {sc.currency} "
        f"(written to {out}/kpis.csv and {out}/summary.json)"
    )
    print(format_summary(result.totals, title))
    from experiments.pnl import format_horizon, format_pnl

    print()
    print(format_pnl(result.totals["ALL"], sc.currency, result.cash_exhausted_day))
    horizon = result.horizon.set_index("region").loc["ALL"]
    valuation = sc.valuation
    print(
        format_horizon(horizon, sc.currency, valuation.equity_years, valuation.discount_rate_annual)
    )
    return 0


def _run_reps(args: argparse.Namespace) -> int:
    from experiments.replicate import replicate

    if args.transactions:
        from sim.errors import UsageError

        raise UsageError("--transactions: only for a single run (without --reps)")
    out = Path(args.out)
    with open_executor(args, [args.scenario]) as executor:
        result = replicate(
            args.scenario,
            args.reps,
            seed=args.seed,
            days=args.days,
            executor=executor,
            out=out,
            force=args.force,
        )
    print(format_ci_table(result))
    print(f"(written to {out}/summary_ci.csv, replications.csv, kpis.csv, summary.json)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``run``."""
    run = sub.add_parser("run", help="simulate one scenario and write its KPIs")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--days", type=int, help="simulate this many days (default: horizon_days)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    add_output_args(run, "results/run")
    run.add_argument(
        "--transactions",
        metavar="FILE.csv",
        help="also export our simulated transaction log (day 0 = --start-date)",
    )
    run.add_argument("--start-date", default="2026-01-01", help="calendar date of day 0")
    run.add_argument(
        "--reps", type=int, default=None, help="replications (CRN seeds) with 95%% CIs"
    )
    add_executor_args(run)
    run.set_defaults(func=cmd_run)
