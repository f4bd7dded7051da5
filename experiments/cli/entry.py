"""`marketsim entry`: rank market-entry options on CRN replications; prints the table."""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli.common import add_executor_args, add_output_args, fmt_number, print_report


def format_entry(result) -> str:
    """The ranked options table (an :class:`EntryRanking`)."""
    sc = result.source.scenario
    lines = [
        f"{sc.name}: {len(result.table)} entry options x {result.reps} CRN replications over "
        f"{result.days} days; NPV of monthly cash flows at {result.discount_rate_annual:.0%}/yr "
        f"(calendar months), +equity: including customer equity and inventory at the horizon; "
        f"amounts in {sc.currency}",
        f"{'rank':<5}{'option':<22}{'NPV mean':>12}{'95% CI':>26}{'NPV+equity':>12}"
        f"{'payback':>9}{'P(loss)':>9}{'CVaR5%':>12}{'share':>8}",
    ]
    for row in result.table.itertuples():
        pb = "-" if row.payback_month != row.payback_month else f"m{row.payback_month:.0f}"
        ci = f"[{fmt_number(row.npv_low)}, {fmt_number(row.npv_high)}]"
        lines.append(
            f"{row.rank:<5}{row.option:<22}{fmt_number(row.npv_mean):>12}{ci:>26}"
            f"{fmt_number(row.npv_with_equity_mean):>12}{pb:>9}{row.p_loss:>9.0%}"
            f"{fmt_number(row.cvar5_profit):>12}{row.market_share_mean:>8.1%}"
        )
    return "\n".join(lines)


def cmd_entry(args: argparse.Namespace) -> int:
    """Handler of ``marketsim entry``."""
    from experiments.entry import planned_worker_bytes, rank_entry_options
    from experiments.executors import make_executor

    out = Path(args.out)
    memory = planned_worker_bytes(args.options)
    with make_executor(args.executor, args.workers, args.scheduler, memory) as executor:
        result = rank_entry_options(
            args.options,
            reps=args.reps,
            seed=args.seed,
            days=args.days,
            executor=executor,
            out=out,
            force=args.force,
        )
    print(format_entry(result))
    print_report(out)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``entry``."""
    p = sub.add_parser("entry", help="rank market-entry options on NPV, payback and risk")
    p.add_argument("options", help="options YAML file")
    p.add_argument("--reps", type=int, default=None, help="replications (default: the file's)")
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.add_argument(
        "--days",
        type=int,
        default=None,
        help="horizon override (default: the file's horizon_days, else the scenario's)",
    )
    add_output_args(p, "results/entry")
    add_executor_args(p)
    p.set_defaults(func=cmd_entry)
