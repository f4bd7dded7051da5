"""`marketsim report OUT`: the parser and handler (the library is experiments.report)."""

from __future__ import annotations

import argparse


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report of ``args.out`` and print its path."""
    from experiments.report import write_report

    print(write_report(args.out))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    rep = sub.add_parser(
        "report",
        help="write OUT/report/report.html (self-contained) and PNG charts from a result folder",
    )
    rep.add_argument("out", help="output folder of run, run --reps, compare, tune or entry")
    rep.set_defaults(func=cmd_report)
