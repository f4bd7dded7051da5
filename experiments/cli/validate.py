"""`marketsim validate` and `marketsim strategies`: check scenario files, list strategies."""

from __future__ import annotations

import argparse
import sys


def cmd_validate(args: argparse.Namespace) -> int:
    """Every problem of every file on stderr; exit 2 when any file is invalid."""
    from experiments.files import load_scenario
    from sim.errors import ScenarioError

    bad = 0
    for path in args.scenarios:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            for line in exc.lines():
                print(line, file=sys.stderr)
            continue
        print(
            f"{path}: ok ({scenario.name}, {len(scenario.regions)} regions, "
            f"{scenario.total_population():,} consumers, {scenario.horizon_days} days)"
        )
    return 2 if bad else 0


def cmd_strategies(args: argparse.Namespace) -> int:
    """Every registered strategy with its declared parameters."""
    from strategies.registry import all_strategies

    for kind, by_name in all_strategies().items():
        print(f"{kind}:")
        for name, cls in by_name.items():
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            print(f"  {name}: {doc}")
            for p in cls.params:
                print(f"    {p.name}: {p.describe()}" + (f" - {p.help}" if p.help else ""))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``validate`` and ``strategies``."""
    val = sub.add_parser("validate", help="check scenario files; exit 2 listing every problem")
    val.add_argument("scenarios", nargs="+", help="scenario YAML files")
    val.set_defaults(func=cmd_validate)
    strat = sub.add_parser("strategies", help="list strategies with their parameters")
    strat.set_defaults(func=cmd_strategies)
