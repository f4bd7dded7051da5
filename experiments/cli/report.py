"""`marketsim report OUT`: the parser and handler (the library is experiments.report)."""

from __future__ import annotations

import argparse
import sys

EXIT_BAD_INPUT = 2


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report of ``args.out`` and print its path."""
    from experiments.report import write_report
    from sim.errors import DataError

    try:
        path = write_report(args.out)
    except DataError as exc:  # main() does not catch DataError yet; drop once it catches all
        print(f"marketsim report: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(path)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    rep = sub.add_parser(
        "report",
        help="write OUT/report/report.html (self-contained) and PNG charts from a result folder",
    )
    rep.add_argument("out", help="output folder of run, run --reps, compare, tune or entry")
    rep.set_defaults(func=cmd_report)
