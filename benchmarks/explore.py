"""Explore benchmark: ``python -m benchmarks.explore [--futures F] [--plan C] [--no-append]``.

Target of issue 13: 1,000 futures x 4 entry options at 10^5 consumers in <= 30 minutes wall
on this 2-core machine. Running all 4,000 one-year runs here takes over an hour, so a sample
of ``F`` futures x the 4 options of ``examples/entry_options.yaml`` is timed through
``marketsim.explore`` itself (store, manifest, analysis included) and extrapolated:

1. full fidelity (the default scenario at 50,000 consumers per region = 10^5 in all), in
   this process (``workers=1``): CPU seconds per run including the driver's work;
2. screening fidelity (population scale 0.1, i.e. 10^4 consumers), the same way;
3. full fidelity on 2 worker processes: wall seconds per run as measured (the machine is
   shared, so this is an upper bound).

Plans extrapolated to 1,000 futures x 4 options on 2 cores (CPU-bound: CPU seconds / 2):
A. every option on every future at full fidelity; B. all screened at 10^4, the 2 finalists
on every future at full fidelity; C. screening, then OCBA spending 600 full-fidelity runs;
C'. the same with only 625 futures screened (``--screen-futures``: the finalists are chosen
on the screening mean, which a sample of futures settles);
D. screening, then as many OCBA runs as the rest of the 30 minutes buys (none when
screening alone overruns). Every run is one year (``days=365``; the options file itself
runs three years).
Appends the figures to ``benchmarks/RESULTS.md`` unless ``--no-append``. ``--plan C`` runs
plan C itself instead (1,000 futures unless ``--futures``; ``benchmarks/plan_c.py``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.report import machine_info, table
from benchmarks.scenario import RESULTS_PATH, ROOT

TARGET_MINUTES = 30.0
FUTURES, OPTIONS, CORES = 1000, 4, 2
POPULATION_PER_REGION = 50_000
SCREEN_SCALE = 0.1
OCBA_RUNS = 600
SCREEN_FUTURES = 625  # plan C': screening on a sample of the futures (--screen-futures)
DAYS = 365  # one year per run (the options file's own horizon is three years)


def _inputs(tmp: Path) -> tuple[Path, Path]:
    """The default scenario at 10^5 consumers, the entry options and uncertainties on it."""
    data = yaml.safe_load((ROOT / "scenarios" / "default.yaml").read_text(encoding="utf-8"))
    for region in data["regions"]:
        region["population"] = POPULATION_PER_REGION
    (tmp / "scenario.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    options = yaml.safe_load((ROOT / "examples" / "entry_options.yaml").read_text())
    options["scenario"] = "scenario.yaml"
    (tmp / "options.yaml").write_text(yaml.safe_dump(options), encoding="utf-8")
    spec = yaml.safe_load((ROOT / "examples" / "uncertainties.yaml").read_text())
    spec["scenario"] = "scenario.yaml"
    (tmp / "uncertainties.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return tmp / "uncertainties.yaml", tmp / "options.yaml"


def _timed(futures: int, out: Path, **kwargs: Any) -> dict[str, float]:
    """CPU and wall seconds of one ``explore`` call, per model run."""
    from experiments.explore import explore

    u, o = _inputs(out.parent)
    cpu, wall = time.process_time(), time.perf_counter()
    res = explore(u, options=o, futures=futures, out=out, days=DAYS, **kwargs)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    runs = res.runs["screen_runs"] + res.runs["full_runs"]
    return {"runs": runs, "cpu_per_run": cpu / runs, "wall_per_run": wall / runs}


def measure(futures: int) -> dict[str, dict[str, float]]:
    """The three timed samples (each into a fresh temporary folder)."""
    out: dict[str, dict[str, float]] = {}
    for name, kwargs in (
        ("full, in-process", {"workers": 1}),
        ("screen 0.1, in-process", {"workers": 1, "screen_scale": SCREEN_SCALE, "finalists": 4}),
        ("full, 2 workers", {"workers": 2}),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            out[name] = _timed(futures, Path(tmp) / "out", **kwargs)
        print(f"{name}: {out[name]}")
    # the screening call ran the 4 options at both fidelities: take the full part out
    both = out["screen 0.1, in-process"]
    full = out["full, in-process"]["cpu_per_run"]
    both["cpu_per_run"] = max(2 * both["cpu_per_run"] - full, 0.0)
    return out


def plans(m: dict[str, dict[str, float]]) -> list[tuple[str, int, float]]:
    """(plan, runs, CPU-bound minutes on 2 cores) for 1,000 futures x 4 options."""
    full = m["full, in-process"]["cpu_per_run"]
    screen = m["screen 0.1, in-process"]["cpu_per_run"]
    n_screen = FUTURES * OPTIONS
    return [
        ("A: 4 options x 1,000 futures at 10^5", n_screen, n_screen * full / CORES / 60),
        (
            "B: screen all at 10^4, 2 finalists x 1,000 at 10^5",
            n_screen + 2 * FUTURES,
            (n_screen * screen + 2 * FUTURES * full) / CORES / 60,
        ),
        (
            f"C: screen all at 10^4, OCBA {OCBA_RUNS} runs at 10^5",
            n_screen + OCBA_RUNS,
            (n_screen * screen + OCBA_RUNS * full) / CORES / 60,
        ),
        (
            f"C': screen {SCREEN_FUTURES} futures at 10^4, OCBA {OCBA_RUNS} runs at 10^5",
            SCREEN_FUTURES * OPTIONS + OCBA_RUNS,
            (SCREEN_FUTURES * OPTIONS * screen + OCBA_RUNS * full) / CORES / 60,
        ),
        _fitting_plan(screen, full),
    ]


def _fitting_plan(screen: float, full: float) -> tuple[str, int, float]:
    """D: screening, then OCBA with the full-fidelity runs the rest of the 30 minutes buys."""
    n_screen = FUTURES * OPTIONS
    left = TARGET_MINUTES * 60 * CORES - n_screen * screen
    budget = max(int(left // full), 0)
    return (
        f"D: screen all at 10^4, OCBA {budget:,} runs at 10^5 (what fits)",
        n_screen + budget,
        (n_screen * screen + budget * full) / CORES / 60,
    )


def markdown(info: dict[str, str], futures: int, m: dict[str, dict[str, float]]) -> str:
    """The RESULTS.md section."""
    rows = [
        [name, f"{int(v['runs'])}", f"{v['cpu_per_run']:.2f}", f"{v['wall_per_run']:.2f}"]
        for name, v in m.items()
    ]
    plan_rows = [
        [name, f"{runs:,}", f"{minutes:.1f}", "PASS" if minutes <= TARGET_MINUTES else "MISS"]
        for name, runs, minutes in plans(m)
    ]
    return "\n".join(
        [
            f"## {info['date']} - explore (issue 13)",
            "",
            f"- machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; load average "
            f"at start {info['load']}",
            f"- git {info['git']}; sample: {futures} futures x {OPTIONS} entry options "
            "(examples/entry_options.yaml on the default scenario at 2 x 50,000 consumers, "
            "examples/uncertainties.yaml, LHS, 365 days, 1 replication)",
            "",
            table(["sample", "runs", "CPU s/run", "wall s/run"], rows),
            "",
            "CPU s/run: `time.process_time` of the whole `explore` call in this process "
            "(model runs, store writes, manifest, analysis) / runs; the screening row is the "
            "screening runs alone (the call's full-fidelity part subtracted). In the 2-worker "
            "sample the models run in the workers, so its CPU column is the driver's own work "
            "per run (store, manifest, analysis); its wall s/run is as measured on the shared "
            "machine (load average in the header).",
            "",
            table(
                ["plan (1,000 futures x 4 options)", "runs", "min CPU-bound, 2 cores", "<= 30"],
                plan_rows,
            ),
            "",
            "Extrapolated: runs x CPU s/run / 2 cores (no idle time, no other load). "
            f"Screening alone (4,000 runs at 10^4) needs "
            f"{FUTURES * OPTIONS * m['screen 0.1, in-process']['cpu_per_run'] / CORES / 60:.1f}"
            " min: a one-year run has a fixed cost per simulated day (strategies, "
            "competitors, lanes, KPIs) that a smaller population does not remove, so the "
            "target needs a faster model day, not only fewer consumers.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print and append its section."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.explore", description=__doc__)
    parser.add_argument(
        "--futures", type=int, default=None, help="futures in each sample (8; --plan C: 1000)"
    )
    parser.add_argument("--no-append", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument(
        "--plan",
        choices=["C"],
        default=None,
        help="run plan C for real on 2 workers and time it (benchmarks/plan_c.py)",
    )
    args = parser.parse_args(argv)
    info = machine_info()
    if args.plan == "C":
        from benchmarks import plan_c

        with tempfile.TemporaryDirectory() as tmp:
            result = plan_c.run_plan(args.futures or FUTURES, _inputs(Path(tmp)), DAYS)
        text = plan_c.markdown(info, result)
    else:
        futures = args.futures or 8
        text = markdown(info, futures, measure(futures))
    print(text)
    if not args.no_append:
        with RESULTS_PATH.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
