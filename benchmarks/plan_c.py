"""Plan C for real: ``python -m benchmarks.explore --plan C [--futures N] [--no-append]``.

Issue 13's target, run rather than extrapolated: 1,000 futures x the 4 entry options of
``examples/entry_options.yaml`` (the default scenario at 2 x 50,000 consumers, one year per
run), every option screened at a tenth of the population (10^4 consumers), the 2 best by
screening mean kept, and 600 full-fidelity (10^5) runs spent by OCBA, on 2 worker processes.
The wall time of the whole ``explore`` call (store, manifest and analysis included) is
compared with the 30-minute target and appended to ``benchmarks/RESULTS.md`` with the load
average before and after (run it on a quiet machine: other processes lengthen the wall time).
``--futures 8`` tries the command on a small sample (the OCBA budget is capped at what the
finalists' futures hold).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.report import table

TARGET_MINUTES = 30.0
OPTIONS, WORKERS = 4, 2
SCREEN_SCALE, FINALISTS, OCBA_RUNS = 0.1, 2, 600


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu_s() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``: user, nice, system, irq,
    softirq): the pool's workers are children of a fork server, not of this process, so
    their CPU cannot be read from here; on a quiet machine this is the run's CPU."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:8]
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields)
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def run_plan(futures: int, inputs: tuple[Path, Path], days: int) -> dict[str, Any]:
    """Run plan C once: wall seconds, runs, load average before and after."""
    from experiments.explore import explore

    uncertainties, options = inputs
    budget = min(OCBA_RUNS, FINALISTS * futures)
    load_before = _load()
    cpu0 = _cpu_s()
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res = explore(
            uncertainties,
            options=options,
            futures=futures,
            days=days,
            screen_scale=SCREEN_SCALE,
            finalists=FINALISTS,
            ocba_budget=budget,
            workers=WORKERS,
            out=Path(tmp) / "out",
        )
    wall = time.perf_counter() - wall
    cpu = _cpu_s() - cpu0
    return {
        "futures": futures,
        "screen_runs": res.runs["screen_runs"],
        "full_runs": res.runs["full_runs"],
        "wall_s": wall,
        "cpu_s": cpu,
        "load_before": load_before,
        "load_after": _load(),
        "robust_choice": res.robust_choice,
    }


def markdown(info: dict[str, str], r: dict[str, Any]) -> str:
    """The RESULTS.md section of one plan-C run."""
    minutes = r["wall_s"] / 60
    full = r["futures"] == 1000
    verdict = ("MET" if minutes <= TARGET_MINUTES else "MISS") if full else "(sample only)"
    rows = [
        [
            f"{r['futures']:,} futures x {OPTIONS} options",
            f"{r['screen_runs']:,}",
            f"{r['full_runs']:,}",
            f"{minutes:.1f}",
            verdict,
        ]
    ]
    header = ["plan C", "screening runs (10^4)", "OCBA runs (10^5)", "wall min"]
    return "\n".join(
        [
            f"## {info['date']} - plan C run for real (issue 13)",
            "",
            f"- machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; "
            f"git {info['git']}",
            f"- load average before {r['load_before']}, after {r['load_after']}",
            f"- machine CPU busy during the run (all processes, /proc/stat): "
            f"{r['cpu_s'] / 60:.1f} core-min ({r['cpu_s'] / max(r['wall_s'], 1e-9):.2f} of "
            f"{os.cpu_count()} cores on average)",
            f"- `python -m benchmarks.explore --plan C --futures {r['futures']}`: explore on "
            f"examples/entry_options.yaml (default scenario at 2 x 50,000 consumers), 365 days, "
            f"screen scale {SCREEN_SCALE}, {FINALISTS} finalists, OCBA, {WORKERS} workers; "
            f"robust choice {r['robust_choice']}",
            "",
            table([*header, f"<= {TARGET_MINUTES:.0f} min"], rows),
            "",
            "Wall: the whole `explore` call (model runs on the 2 workers, store, manifest, "
            "analysis); the target is wall time on this 2-core machine.",
            "",
        ]
    )
