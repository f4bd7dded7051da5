"""The `marketsim` command line: run, validate and list strategies (exit 2 on bad input)."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from experiments.calibration.commands import CalibrationInputError
from experiments.cli.common import add_executor_args
from experiments.compare import add_parser as add_compare
from experiments.entry import add_parser as add_entry
from experiments.report import add_parser as add_report
from experiments.results import OutputPathError, atomic_write, totals, write_csv, write_json
from experiments.scenario_io import file_sha256, load_scenario
from experiments.tuning import add_parser as add_tune
from sim.calendar import MAX_HORIZON_DAYS
from sim.errors import ScenarioError, StrategyError

EXIT_BAD_INPUT = 2
LIMITS = {
    "days": MAX_HORIZON_DAYS,
    "reps": 100_000,
    "workers": 1024,
    "min_reps": 100_000,
    "max_reps": 100_000,
    "trials": 1_000_000,
}
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


def package_version() -> str:
    """Installed marketsim version."""
    try:
        return version("marketsim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


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


def cmd_run(args: argparse.Namespace) -> int:
    from sim.model import MarketModel
    from strategies.registry import build_strategies

    if args.reps is not None:
        from experiments.compare import cmd_run_reps

        return cmd_run_reps(args)

    scenario = load_scenario(args.scenario)
    seed = scenario.seed if args.seed is None else args.seed
    days = scenario.horizon_days if args.days is None else args.days
    model = MarketModel(
        scenario, strategies=build_strategies(scenario.strategies), seed=seed, days=days
    )
    frame = model.run()
    table = totals(frame)
    out = Path(args.out)
    write_csv(out, "kpis.csv", frame)
    if args.transactions:
        write_transactions(model, args.transactions, args.start_date)
    write_json(
        out,
        "summary.json",
        {
            "scenario": scenario.name,
            "scenario_file": str(args.scenario),
            "scenario_sha256": file_sha256(args.scenario),
            "seed": seed,
            "days": days,
            "currency": scenario.currency,
            "marketsim_version": package_version(),
            "strategies": {
                kind: {"name": s.name, "params": dict(s.values)}
                for kind, s in model.strategies.items()
            },
            "orders": model.order_status_counts(),
            "totals": table,
        },
    )
    title = (
        f"{scenario.name}: {days} days, seed {seed}, amounts in {scenario.currency} "
        f"(written to {out}/kpis.csv and {out}/summary.json)"
    )
    print(format_summary(table, title))
    return 0


def write_transactions(model, path: str, start_date: str) -> None:
    """Export the simulated transaction log with calendar dates."""
    import pandas as pd

    try:
        start = pd.Timestamp(start_date)
    except ValueError:
        raise OutputPathError(f"--start-date: not a date: {start_date!r}") from None
    tx = model.transactions()
    tx.insert(2, "date", (start + pd.to_timedelta(tx.pop("day"), unit="D")).dt.strftime("%Y-%m-%d"))
    target = Path(path)
    atomic_write(target.resolve(), lambda p: tx.to_csv(p, index=False))


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for path in args.scenarios:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        print(
            f"{path}: ok ({scenario.name}, {len(scenario.regions)} regions, "
            f"{scenario.total_population():,} consumers, {scenario.horizon_days} days)"
        )
    return EXIT_BAD_INPUT if bad else 0


def cmd_strategies(args: argparse.Namespace) -> int:
    from strategies.registry import all_strategies

    for kind, by_name in all_strategies().items():
        print(f"{kind}:")
        for name, cls in by_name.items():
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            print(f"  {name}: {doc}")
            for p in cls.params:
                print(f"    {p.name}: {p.describe()}" + (f" - {p.help}" if p.help else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marketsim",
        description="Agent-based cross-border market-entry simulation and strategy evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"marketsim {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate one scenario and write its KPIs")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--days", type=int, help="simulate this many days (default: horizon_days)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--out", default="results/run", help="output folder (default results/run)")
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

    val = sub.add_parser("validate", help="check scenario files; exit 2 listing every problem")
    val.add_argument("scenarios", nargs="+", help="scenario YAML files")
    val.set_defaults(func=cmd_validate)

    strat = sub.add_parser("strategies", help="list strategies with their parameters")
    strat.set_defaults(func=cmd_strategies)

    from experiments.calibration.commands import add_parser as add_calibrate

    add_compare(sub)
    add_entry(sub)
    add_tune(sub)
    add_report(sub)
    add_calibrate(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``marketsim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "seed", None) is not None and not 0 <= args.seed < 2**63:
        parser.error(f"--seed must be in [0, 2**63), got {args.seed}")
    # absurd sizes are refused before anything is allocated
    for name, top in LIMITS.items():
        value = getattr(args, name, None)
        if value is not None and not 1 <= value <= top:
            parser.error(f"--{name.replace('_', '-')} must be between 1 and {top:,}, got {value}")
    precision = getattr(args, "precision", None)
    if precision is not None and not 0 < precision < 1:
        parser.error(f"--precision must be between 0 and 1, got {precision}")
    try:
        return int(args.func(args) or 0)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except (StrategyError, OutputPathError, CalibrationInputError) as exc:
        print(f"marketsim: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("marketsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
