"""Benchmark suite for issue 5: ``python -m benchmarks.run [--quick]`` (``make bench``).

Measures, on the benchmark scenario ``benchmarks/scenario_bench.yaml`` (one region, 20 of
our products in 4 categories, 10 competitor offers repricing by undercut / match /
best_response, a 4-stage air lane with customs inspections and two disruptions, cost-plus
pricing, weekly decisions, the ``rfm_tiers`` retention strategy when registered, else ``none``):

1. consumer-days per second for one region of N = 10^4, 10^5, 10^6 consumers over 365 days,
   single process, each size in a fresh subprocess; the log-log slope of time 10^5 -> 10^6;
2. time per phase of the day (the model's methods wrapped with CPU-time accumulators,
   exclusive time; :class:`benchmarks.timing.TimedMarketModel` - nothing in ``sim/`` is
   edited);
3. peak memory per consumer, two ways (see :func:`_measure_model`);
4. the naive model (:mod:`benchmarks.naive`) at N = 10^4 in the same invocation, and the ratio;
5. SimPy lane throughput on a heavy day (``sim.lanes.LaneAgent`` directly);
6. tuning throughput: Optuna trials of 3 scenarios x 3 replications at 10^5 consumers on a
   2-process pool, extrapolated to 100 trials.

Prints the tables and PASS/MISS per target of the issue, and appends everything with the
machine information to ``benchmarks/RESULTS.md`` (full runs; ``--quick`` only with
``--append``). ``--quick``: N up to 10^5, 60 days, 1 tuning trial of 30 days - a smoke test.

Times are CPU seconds of single-threaded worker processes (wall clock alongside), so that other
load on a shared machine does not decide the verdicts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from benchmarks import report
from benchmarks.scenario import RESULTS_PATH, ROOT, retention_choice
from benchmarks.tuning import tuning_benchmark
from benchmarks.workers import run_subprocess, run_task


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="reduced smoke run (< 1 minute)")
    parser.add_argument("--no-tuning", action="store_true", help="skip the tuning benchmark")
    parser.add_argument("--tune-trials", type=int, default=None, help="Optuna trials to time")
    parser.add_argument("--append", action="store_true", help="append a --quick run as well")
    parser.add_argument("--no-append", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser


def measure_models(sizes: list[int], days: int, quick: bool) -> dict[str, Any]:
    """Timing, naive, phase and tracemalloc runs, each in a fresh worker process."""
    repeats = {10_000: 3, 100_000: 2, 1_000_000: 1}
    plain: dict[int, dict[str, Any]] = {}
    for n in sizes:
        print(f"... N={n:,}: timing", file=sys.stderr, flush=True)
        plain[n] = run_subprocess(
            {"task": "model", "n": n, "days": days, "repeats": repeats[n] if not quick else 1}
        )
    # the naive consumers have no retention offers (no ``_occasion_round`` for their responses),
    # so the naive model and the vectorized run it is compared with both run without them
    naives: dict[str, dict[str, Any]] = {}
    for scheduler in ("loop", "shuffle_do"):
        print(f"... naive model ({scheduler})", file=sys.stderr, flush=True)
        naives[scheduler] = run_subprocess(
            {
                "task": "model",
                "kind": "naive",
                "scheduler": scheduler,
                "n": 10_000,
                "days": days,
                "retention": "none",
            }
        )
    print("... N=10,000 without retention offers: timing and phases", file=sys.stderr, flush=True)
    peer = {"task": "model", "n": 10_000, "days": days, "retention": "none"}
    naive_peer = run_subprocess({**peer, "repeats": 1 if quick else repeats[10_000]})
    naive_peer_phases = run_subprocess({**peer, "phases": True})
    phases: dict[int, dict[str, Any]] = {}
    for n in sizes:
        print(f"... N={n:,}: phases", file=sys.stderr, flush=True)
        phases[n] = run_subprocess({"task": "model", "n": n, "days": days, "phases": True})
    traced: dict[int, dict[str, Any]] = {}
    for n in sizes[-2:]:
        print(f"... N={n:,}: tracemalloc", file=sys.stderr, flush=True)
        traced[n] = run_subprocess({"task": "model", "n": n, "days": days, "tracemalloc": True})

    return {
        "plain": plain,
        "naives": naives,
        "naive_peer": naive_peer,
        "naive_peer_phases": naive_peer_phases,
        "phases": phases,
        "traced": traced,
    }


def measure_lanes(quick: bool) -> list[tuple[int, int, dict[str, Any]]]:
    """One heavy day through the 4-stage lane, per (orders, units/shipment cap) case."""
    lane_cases = (
        [(2_000, 1), (50_000, 50)] if quick else [(10_000, 1), (200_000, 50), (1_000_000, 1000)]
    )
    out = []
    for orders, cap in lane_cases:
        print(f"... lane: {orders:,} orders, cap {cap}", file=sys.stderr, flush=True)
        out.append((orders, cap, run_subprocess({"task": "lane", "orders": orders, "cap": cap})))
    return out


def append_results(out: list[str]) -> None:
    """Append a run's report to ``benchmarks/RESULTS.md``."""
    with RESULTS_PATH.open("a", encoding="utf-8") as fh:
        if RESULTS_PATH.stat().st_size == 0:
            fh.write(
                "# Benchmark results\n\nAppended by `python -m benchmarks.run` "
                "(`make bench`); newest last.\n\n"
            )
        fh.write("\n".join(out) + "\n")
    print(f"appended to {RESULTS_PATH.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the suite (or, with ``--worker``, one measurement task of it)."""
    args = _parser().parse_args(argv)
    if args.worker:
        result = run_task(json.loads(args.worker))
        print("RESULT " + json.dumps(result))
        return 0

    quick = args.quick
    days = 60 if quick else 365
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    out: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        out.append(text)

    report.emit_header(emit, quick, days, retention_choice())
    t_start = time.perf_counter()
    measured = measure_models(sizes, days, quick)
    derived = report.emit_throughput(emit, measured, sizes, days)
    report.emit_phases(emit, measured["phases"], sizes, days)
    report.emit_lanes(emit, measure_lanes(quick))
    tuning: dict[str, Any] | None = None
    if not args.no_tuning:
        trials = args.tune_trials or (1 if quick else 4)
        print(f"... tuning: {trials} trials", file=sys.stderr, flush=True)
        tuning = tuning_benchmark(trials, 100_000, 30 if quick else 365)
        report.emit_tuning(emit, tuning)
    report.emit_targets(emit, measured, derived, tuning, quick)
    emit(f"Benchmark wall time: {time.perf_counter() - t_start:.0f} s.")
    emit()
    if not args.no_append and (not quick or args.append):
        append_results(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
