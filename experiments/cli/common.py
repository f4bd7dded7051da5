"""Pieces every command shares: executor flags, number formatting, the report hook."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_executor_args(p: argparse.ArgumentParser) -> None:
    """``--workers``, ``--executor``, ``--scheduler`` (shared by every replication command)."""
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes (default and at most: the usable cores, fewer if memory is short); "
        "with --scheduler the cluster's workers are used",
    )
    p.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="local process pool (default) or Dask (a local cluster, or --scheduler's)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="running Dask scheduler tcp://HOST:PORT (with --executor dask; docs/scaling.md)",
    )


def add_output_args(p: argparse.ArgumentParser, default_out: str) -> None:
    """``--out`` and ``--force`` (shared by every command that writes a result folder)."""
    p.add_argument(
        "--out",
        default=default_out,
        help="output folder: new, or holding this command's earlier results (a rerun resumes)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace --out even if it is a file, holds other files or another command's results",
    )


def fmt_number(v: float) -> str:
    """A KPI value for a console table: 4 decimals below 10, thousands separators above."""
    if v != v:
        return "-"
    return f"{v:,.4f}" if abs(v) < 10 else f"{v:,.0f}"


def print_report(out: Path) -> None:
    """Write the HTML report of an output folder and say where it is."""
    from experiments.report import write_report

    path = write_report(out)
    print(f"report: {path}")
