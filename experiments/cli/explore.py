"""`marketsim explore`: options across sampled futures; prints the robust ranking and boxes."""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli.common import add_executor_args, add_output_args, fmt_number, print_report


def format_explore(result) -> str:
    """The robust ranking, the sensitivity leaders and the PRIM findings (an ExploreResult)."""
    sc = result.source.scenario
    d = result.design
    lines = [
        f"{sc.name}: {len(result.robust)} options x {d['futures']} futures ({d['method']}, "
        f"{len(d['factors'])} uncertainties); {result.kpi} in {sc.currency}, "
        f"ranked by {result.criterion}",
        f"{'rank':<5}{'option':<24}{'mean':>12}{'CVaR5%':>12}{'P(loss)':>9}{'P(best)':>9}"
        f"{'max regret':>13}",
    ]
    for row in result.robust.itertuples():
        lines.append(
            f"{row.rank:<5}{row.option:<24}{fmt_number(row.mean):>12}{fmt_number(row.cvar5):>12}"
            f"{row.p_loss:>9.0%}{row.p_best:>9.0%}{fmt_number(row.max_regret):>13}"
        )
    lines.append(result.headline())
    runs = result.runs
    lines.append(
        f"runs: {runs.get('screen_runs', 0)} screening + {runs.get('full_runs', 0)} full "
        f"fidelity (every finalist on every future: {runs.get('equal_allocation_runs', 0)})"
    )
    lines += [f"- {f}" for f in result.findings]
    lines += [f"  note: {n}" for n in result.notes]
    return "\n".join(lines)


def cmd_explore(args: argparse.Namespace) -> int:
    """Handler of ``marketsim explore``."""
    from experiments.executors import make_executor
    from experiments.explore import explore
    from experiments.explore.workflow import planned_worker_bytes

    out = Path(args.out)
    memory = planned_worker_bytes(args.uncertainties, args.options, args.scenario)
    with make_executor(args.executor, args.workers, args.scheduler, memory) as executor:
        result = explore(
            args.uncertainties,
            options=args.options,
            variants=args.variants,
            scenario=args.scenario,
            design=args.design,
            futures=args.futures,
            reps=args.reps,
            kpi=args.kpi,
            criterion=args.criterion,
            seed=args.seed,
            days=args.days,
            screen_scale=args.screen_scale,
            screen_reps=args.screen_reps,
            screen_futures=args.screen_futures,
            finalists=args.finalists,
            ocba_budget=args.ocba_budget,
            executor=executor,
            out=out,
            force=args.force,
            kpi_detail=args.kpi_detail,
        )
    print(format_explore(result))
    print_report(out)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``explore``."""
    p = sub.add_parser(
        "explore", help="rank options across sampled futures: regret, sensitivity, PRIM boxes"
    )
    p.add_argument("uncertainties", help="uncertainties YAML file (examples/uncertainties.yaml)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--options", default=None, help="entry options file (its scenario)")
    what.add_argument("--variants", default=None, help="strategy variants file")
    p.add_argument("--scenario", default=None, help="scenario (default: the uncertainties file's)")
    p.add_argument("--design", choices=["lhs", "sobol", "morris"], default="lhs")
    p.add_argument(
        "--futures",
        type=int,
        default=64,
        help="design size (Sobol: a power of 2, x (k + 2) futures; Morris: x (k + 1))",
    )
    p.add_argument("--reps", type=int, default=1, help="CRN replications per future and option")
    p.add_argument("--kpi", default="net_profit_base", help="outcome (horizon total, ALL)")
    p.add_argument("--criterion", choices=["regret", "mean", "cvar"], default="regret")
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.add_argument("--days", type=int, default=None, help="override the horizon")
    p.add_argument(
        "--screen-scale",
        type=float,
        default=None,
        help="screen every option first at this population scale (e.g. 0.1)",
    )
    p.add_argument("--screen-reps", type=int, default=1, help="replications when screening")
    p.add_argument(
        "--screen-futures",
        type=int,
        default=None,
        help="screen on the first N futures only (default: all)",
    )
    p.add_argument("--finalists", type=int, default=2, help="options kept after screening")
    p.add_argument(
        "--ocba-budget",
        type=int,
        default=None,
        help="full-fidelity runs spent by OCBA (default: every finalist on every future)",
    )
    p.add_argument(
        "--kpi-detail",
        choices=["totals", "daily"],
        default="totals",
        help="what each run keeps in OUT/runs: its horizon totals (default; all explore "
        "reads) or its daily KPI table",
    )
    add_output_args(p, "results/explore")
    add_executor_args(p)
    p.set_defaults(func=cmd_explore)
