"""`marketsim compare`: strategy variants on paired replications; prints the ranking."""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli.common import (
    add_executor_args,
    add_output_args,
    fmt_number,
    open_executor,
    print_report,
)


def format_comparison(result) -> str:
    """Ranking and paired differences for the primary KPI (a :class:`Comparison`)."""
    rank, diffs, primary = result.ranking, result.differences, result.primary_kpi
    lines = [
        f"{result.source.scenario.name}: {len(rank)} variants x {result.reps} paired "
        f"replications ({result.precision['stopped']}), primary KPI {primary}, "
        f"baseline {result.baseline!r}",
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


def cmd_compare(args: argparse.Namespace) -> int:
    """Handler of ``marketsim compare``."""
    from experiments.compare import compare

    out = Path(args.out)
    with open_executor(args, [args.scenario]) as executor:
        result = compare(
            args.scenario,
            args.variants,
            kpi=args.kpi,
            reps=args.reps,
            precision=args.precision,
            min_reps=args.min_reps,
            max_reps=args.max_reps,
            seed=args.seed,
            days=args.days,
            executor=executor,
            out=out,
            force=args.force,
        )
    print(format_comparison(result))
    print_report(out)
    return 0


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
    cmp_.add_argument("--days", type=int, default=None, help="horizon (default: horizon_days)")
    cmp_.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    add_output_args(cmp_, "results/compare")
    add_executor_args(cmp_)
    cmp_.set_defaults(func=cmd_compare)
