"""Pieces every command shares: executor flags, number formatting, the report hook."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from experiments.executors import Executor


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


def planned_worker_bytes(paths: Iterable[str | Path], scale: float = 1.0) -> int:
    """Planned memory of a worker that runs the largest of these scenario files (times the
    market ``scale``); a file that cannot be read is left to the command's own error."""
    import yaml

    from experiments.executors import worker_memory_bytes
    from sim.validation import estimate_memory_bytes

    largest = 0
    for path in paths:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        largest = max(largest, estimate_memory_bytes(data if data is not None else {}))
    return worker_memory_bytes(int(largest * scale))


def open_executor(
    args: argparse.Namespace, scenarios: Iterable[str | Path] = (), scale: float = 1.0
) -> Executor:
    """The executor the flags ask for, its local workers capped by the memory the scenarios
    need (:func:`planned_worker_bytes`)."""
    from experiments.executors import make_executor

    memory = planned_worker_bytes(scenarios, scale)
    return make_executor(args.executor, args.workers, args.scheduler, memory)


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
