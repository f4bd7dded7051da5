"""RSS of one long-lived process running a scenario's `check --full` tasks in turn (a worker).

    python -m benchmarks.check_memory scenarios/sea_entry.yaml --max-tasks 24
    python -m benchmarks.check_memory scenarios/sea_entry.yaml --max-tasks 12 --no-collect

Builds the task list of ``marketsim check SCENARIO --full`` (every fact and lever, the
check's defaults: suite.FULL_DEFAULTS) in the order ``runs.run_variants`` submits it, and runs
the first ``--max-tasks`` in this process one after another, as a pool worker would: through
``executors.run_and_collect`` (``--no-collect``: the bare task, the behaviour before it).
Per task it prints the wall seconds, VmRSS before, the task's peak (VmHWM, reset before the
task via /proc/self/clear_refs), VmRSS after, after ``malloc_trim(0)`` when ``--trim``, and
the MarketModel objects still in memory. Linux only. Set ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` in the environment to take ``sim.allocator``'s setting out.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import time
from typing import Any

GIB = 2**30


def _status_bytes(key: str) -> int:
    """A ``/proc/self/status`` memory line (kB) in bytes."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")  # resets VmHWM to the current RSS


def check_tasks(path: str, days: int | None, reps: int | None) -> list[Any]:
    """The full check's tasks for one scenario file, in submission order."""
    from experiments.check import facts, levers, suite
    from experiments.check.runs import plan_tasks

    scenario = suite._load([path])[0]
    settings = suite._settings("full", reps, days, None, None)
    chosen = [f for f in facts.FACTS if f.applies_to(scenario.name)]
    lever_list = list(levers.built_in_levers())
    variants = suite._variants(scenario, chosen, lever_list)
    floors = [(suite._fact_reps(f, settings), f.needs) for f in chosen]
    floors += [(suite._floor_reps(lv.min_reps, settings), (lv.variant,)) for lv in lever_list]
    reps_by = suite._variant_reps(variants, floors, settings["reps"])
    days_run, window = settings["days"], settings["window_days"]
    return plan_tasks(variants, reps_by, seed=scenario.seed, days=days_run, window_days=window)[0]


def main(argv: list[str] | None = None) -> None:
    """Run the tasks in turn and print one line of RSS figures per task."""
    from experiments.check.runs import run_check_task
    from experiments.executors import run_and_collect
    from sim.model import MarketModel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--days", type=int, default=None, help="default: the check's 730")
    ap.add_argument("--reps", type=int, default=None, help="default: the check's 5")
    ap.add_argument("--max-tasks", type=int, default=24)
    ap.add_argument("--no-collect", action="store_true", help="the bare task (no collection)")
    ap.add_argument("--trim", action="store_true", help="malloc_trim(0) after each task")
    args = ap.parse_args(argv)
    tasks = check_tasks(args.scenario, args.days, args.reps)
    env = [k for k in os.environ if k.startswith("MALLOC_")]
    print(f"{len(tasks)} tasks; running {min(len(tasks), args.max_tasks)}; env {env}")
    print("task variant rep wall_s rss_before_GiB peak_GiB rss_after_GiB trimmed_GiB models")
    for i, task in enumerate(tasks[: args.max_tasks]):
        before = _status_bytes("VmRSS:")
        _reset_peak()
        start = time.perf_counter()
        stats = run_check_task(task) if args.no_collect else run_and_collect(run_check_task, task)
        wall_s = time.perf_counter() - start
        peak = _status_bytes("VmHWM:")
        del stats
        after = _status_bytes("VmRSS:")
        if args.trim:
            ctypes.CDLL(None).malloc_trim(0)
        trimmed = _status_bytes("VmRSS:")
        models = sum(1 for o in gc.get_objects() if isinstance(o, MarketModel))
        print(
            f"{i} {task.variant} {task.rep} {wall_s:.0f} {before / GIB:.2f} {peak / GIB:.2f} "
            f"{after / GIB:.2f} {trimmed / GIB:.2f} {models}",
            flush=True,
        )


if __name__ == "__main__":
    main()
