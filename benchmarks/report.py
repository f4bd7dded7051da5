"""Report helpers: machine information, Markdown tables and target verdicts."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import subprocess
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.scenario import ROOT
from benchmarks.timing import PHASES

# Targets of issue 5 (this 2-core machine).
TARGET_SECONDS_1M = 10.0
TARGET_NAIVE_RATIO = 100.0
TARGET_BYTES_PER_CONSUMER = 150.0
TARGET_SLOPE = 1.1
TARGET_TUNING_MINUTES = 10.0


NAIVE_LABEL = {"loop": "list loop", "shuffle_do": "AgentSet.shuffle_do"}


def machine_info() -> dict[str, str]:
    """CPU, cores, RAM, versions, git revision and load at the start."""
    import mesa
    import optuna
    import scipy
    import simpy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass

    def git(*args: str) -> str:
        try:
            res = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
            )
            return res.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    rev = git("rev-parse", "--short", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--", "sim", "strategies", "benchmarks")
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
        "simpy": getattr(simpy, "__version__", "?"),
        "scipy": scipy.__version__,
        "optuna": optuna.__version__,
        "git": rev + (" (uncommitted changes in sim/strategies/benchmarks)" if dirty else ""),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --------------------------------------------------------------------------- report
def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").replace("x", "").replace("%", ""))
    except ValueError:
        return False
    return True


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; numeric columns right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) or r[i] == "-" for r in rows) for i in range(len(headers))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = (
        "|"
        + "|".join(
            "-" * (w + 1) + (":" if num else "-") for w, num in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    body = [
        "| "
        + " | ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric, strict=True)
        )
        + " |"
        for r in rows
    ]
    return "\n".join([line, sep, *body])


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


Emit = Callable[..., None]


def emit_header(emit: Emit, quick: bool, days: int, retention: str) -> None:
    """Machine, versions and scenario of this run."""
    info = machine_info()
    emit(f"## {info['date']} - {'quick' if quick else 'full'} run")
    emit()
    emit(
        f"- machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; load average "
        f"at start {info['load']}"
    )
    emit(
        f"- Python {info['python']}, numpy {info['numpy']}, mesa {info['mesa']}, simpy "
        f"{info['simpy']}, scipy {info['scipy']}, optuna {info['optuna']}; git {info['git']}"
    )
    emit(
        f"- scenario: benchmarks/scenario_bench.yaml, one region, 20 products, 10 competitor "
        f"offers (undercut/match/best_response), 4-stage lane with customs and disruptions, "
        f"{days} days; retention strategy: `{retention}`"
        + ("" if retention == "rfm_tiers" else " (rfm_tiers is not registered yet)")
    )
    emit()


def emit_throughput(
    emit: Emit, measured: Mapping[str, Any], sizes: list[int], days: int
) -> dict[str, Any]:
    """Throughput and memory by size, the naive model's ratios; returns the derived figures."""
    plain, naives, traced = measured["plain"], measured["naives"], measured["traced"]
    naive, peer = naives["loop"], measured["naive_peer"]
    emit(f"### Throughput (one region, {days} days, single process, fresh process per size)")
    emit()
    rows = []
    for n in sizes:
        r = plain[n]
        rows.append(
            [
                f"{n:,}",
                f"{r['build_s']:.3f}",
                f"{r['run_s']:.3f}",
                f"{r['total_s']:.3f}",
                f"{r['wall_total_s']:.3f}",
                f"{n * days / r['run_s']:,.0f}",
                f"{r['kpis']['occasions'] / r['run_s']:,.0f}",
                f"{r['kpis']['occasions']:,.0f}",
                f"{r['kpis']['units']:,.0f}",
                f"{r['rss_peak_delta_bytes'] / n:.0f}",
                f"{traced[n]['traced_peak_bytes'] / n:.0f}" if n in traced else "-",
                f"{r['consumer_array_bytes'] / n:.0f}" if "consumer_array_bytes" in r else "-",
                str(r["repeats"]),
            ]
        )
    for scheduler, nv in naives.items():
        rows.append(
            [
                f"10,000 naive ({NAIVE_LABEL[scheduler]})",
                f"{nv['build_s']:.3f}",
                f"{nv['run_s']:.3f}",
                f"{nv['total_s']:.3f}",
                f"{nv['wall_total_s']:.3f}",
                f"{10_000 * days / nv['run_s']:,.0f}",
                f"{nv['kpis']['occasions'] / nv['run_s']:,.0f}",
                f"{nv['kpis']['occasions']:,.0f}",
                f"{nv['kpis']['units']:,.0f}",
                f"{nv['rss_peak_delta_bytes'] / 10_000:.0f}",
                "-",
                "-",
                "1",
            ]
        )
    emit(
        table(
            [
                "N",
                "build CPU s",
                "run CPU s",
                "total CPU s",
                "total wall s",
                "consumer-days/s",
                "occasions/s",
                "occasions",
                "our units",
                "peak RSS B/consumer",
                "tracemalloc peak B/consumer",
                "consumer arrays B/consumer",
                "runs (min)",
            ],
            rows,
        )
    )
    emit()
    emit(
        "Times: CPU time of the single-threaded worker process (`time.process_time`, robust "
        "to other load on the machine; wall clock alongside), `build` = MarketModel "
        "construction, `run` = `model.run()` (all days + KPI table); min over `runs`; rates "
        "per CPU second of `run`. Peak RSS: fresh process per size; after imports and a "
        "2,000-consumer warm-up run the RSS is the baseline and the kernel peak mark (VmHWM) "
        "is reset; (peak - baseline) / N. tracemalloc: separate run, peak of traced Python + "
        "numpy allocations during build + run, / N. Consumer arrays: "
        "`RegionalConsumers.nbytes()` after the run / N."
    )
    emit()
    big = sizes[-1]
    lo = 100_000 if big > 100_000 else 10_000
    slope = math.log(plain[big]["total_s"] / plain[lo]["total_s"]) / math.log(big / lo)
    ratio_total = naive["total_s"] / peer["total_s"]
    ratio_run = naive["run_s"] / peer["run_s"]
    slope_span = "10^5 -> 10^6" if big > 100_000 else "10^4 -> 10^5"
    emit(f"- log-log slope of total time, {slope_span}: {slope:.3f}")
    emit(
        "- the naive model has no retention offers, so it and the vectorized run it is "
        f"compared with run retention `none` (vectorized at N = 10^4 without them: "
        f"{peer['total_s']:.3f} CPU s, with `{plain[10_000].get('retention', '?')}` "
        f"{plain[10_000]['total_s']:.3f})"
    )
    for scheduler, nv in naives.items():
        emit(
            f"- naive ({NAIVE_LABEL[scheduler]}) / vectorized at N = 10^4: "
            f"{nv['total_s'] / peer['total_s']:.1f}x (build + run), "
            f"{nv['run_s'] / peer['run_s']:.1f}x (run only); per agent-day "
            f"{1e6 * nv['run_s'] / (10_000 * days):.2f} us vs "
            f"{1e6 * peer['run_s'] / (10_000 * days):.3f} us vectorized"
        )
    _emit_consumer_ratio(emit, naive, measured["naive_peer_phases"])
    _emit_kpi_check(emit, naive, peer)
    emit()
    return {
        "slope": slope,
        "slope_span": slope_span,
        "ratio_total": ratio_total,
        "ratio_run": ratio_run,
    }


def _emit_consumer_ratio(emit: Emit, naive: Mapping[str, Any], peer: Mapping[str, Any]) -> None:
    ph_naive_cons = None
    ph10 = peer["phases"]
    real_consumer_10k = sum(
        ph10.get(k, 0.0) for k in ("awareness", "calendar", "utilities", "gumbel")
    )
    shared_10k = peer["run_s"] - real_consumer_10k
    if shared_10k > 0:
        ph_naive_cons = (naive["run_s"] - shared_10k) / real_consumer_10k
        emit(
            f"- consumer phases only, approx. (awareness + occasions + choice; naive list-loop "
            f"run time minus the shared firm/lane/strategy/KPI time of the instrumented "
            f"vectorized run): {ph_naive_cons:.0f}x"
        )


def _emit_kpi_check(emit: Emit, naive: Mapping[str, Any], peer: Mapping[str, Any]) -> None:
    emit(
        f"- KPI check (naive vs vectorized, one seed, N = 10^4): occasions "
        f"{naive['kpis']['occasions']:,.0f} vs {peer['kpis']['occasions']:,.0f}, our "
        f"units {naive['kpis']['units']:,.0f} vs {peer['kpis']['units']:,.0f}, aware "
        f"at end {naive['kpis']['aware_share_end']:.3f} vs "
        f"{peer['kpis']['aware_share_end']:.3f} (statistical equivalence: "
        f"tests/test_naive_equivalence.py)"
    )


def emit_phases(emit: Emit, phases: Mapping[int, Any], sizes: list[int], days: int) -> None:
    """Exclusive CPU time per phase of the day, and per phase group."""
    emit(f"### Time per phase of the day ({days} days; exclusive CPU time, instrumented run)")
    emit()
    headers = ["group", "phase"]
    for n in sizes:
        headers += [f"N={n:,} s", "%"]
    headers.append("covers")
    rows = []
    for key, group, what in PHASES:
        row = [group, key]
        for n in sizes:
            sec = phases[n]["phases"].get(key, 0.0)
            row += [f"{sec:.3f}", f"{100 * sec / phases[n]['run_s']:.1f}"]
        row.append(what)
        rows.append(row)
    row = ["all", "run total"]
    for n in sizes:
        row += [f"{phases[n]['run_s']:.3f}", "100"]
    row.append("instrumented model.run() (wrapper overhead included)")
    rows.append(row)
    emit(table(headers, rows))
    emit()
    groups: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for key, group, _ in PHASES:
        for n in sizes:
            groups[group][n] += phases[n]["phases"].get(key, 0.0)
    grows = []
    for group, by_n in groups.items():
        grows.append([group, *(f"{100 * by_n[n] / phases[n]['run_s']:.1f}" for n in sizes)])
    emit(table(["phase group", *(f"N={n:,} %" for n in sizes)], grows))
    emit()


def emit_lanes(emit: Emit, lane_results: list[tuple[int, int, dict[str, Any]]]) -> None:
    """SimPy lane throughput on a heavy day."""
    lane_rows = [
        [
            f"{orders:,}",
            str(cap),
            f"{lr['shipments']:,}",
            f"{lr['dispatch_s']:.3f}",
            f"{lr['simpy_s']:.3f}",
            f"{lr['shipments'] / lr['total_s']:,.0f}",
            f"{lr['completed_orders'] / lr['total_s']:,.0f}",
            f"{lr['last_hour'] / 24:.1f}",
        ]
        for orders, cap, lr in lane_results
    ]
    emit("### SimPy lane throughput (one heavy day through a 4-stage lane, LaneAgent directly)")
    emit()
    emit(
        table(
            [
                "orders",
                "units/shipment cap",
                "shipments",
                "dispatch CPU s",
                "SimPy run CPU s",
                "shipments/s",
                "orders/s",
                "days to clear",
            ],
            lane_rows,
        )
    )
    emit()
    emit(
        "Lane: pick-pack 40 servers (lognormal 4 h), export 20 (exp. 2 h), linehaul 100 (30 h), "
        "customs 30 (exp. 3 h) + 15% inspections (lognormal 48 h), linehaul halved on days "
        "0-1; all orders dispatched on day 0, run until every shipment is through."
    )
    emit()


def emit_tuning(emit: Emit, tuning: Mapping[str, Any]) -> None:
    """Tuning throughput table and method."""
    emit("### Tuning throughput (Optuna, 3 scenarios x 3 replications, N = 10^5)")
    emit()
    emit(
        table(
            [
                "trials timed",
                "days",
                "workers",
                "pool start s",
                "s/trial wall",
                "s/trial CPU-bound",
                "trials/min (CPU-bound)",
                "100 trials min wall",
                "100 trials min CPU-bound",
            ],
            [
                [
                    str(tuning["trials"]),
                    str(tuning["days"]),
                    str(tuning["workers"]),
                    f"{tuning['startup_s']:.2f}",
                    f"{tuning['per_trial_s']:.2f}",
                    f"{tuning['per_trial_cpu_bound_s']:.2f}",
                    f"{60 / tuning['per_trial_cpu_bound_s']:.2f}",
                    f"{tuning['minutes_for_100']:.1f}",
                    f"{tuning['minutes_for_100_cpu_bound']:.1f}",
                ]
            ],
        )
    )
    emit()
    emit(
        "Measured with Optuna directly (`marketsim tune` does not exist yet): TPE sampler "
        "over the cost-plus markup; each trial maps its 9 model runs (3 scenario variants "
        "of the benchmark scenario x 3 seeds, common across trials) onto a "
        "`ProcessPoolExecutor(max_workers=2)` created once, and returns the mean net "
        "profit; 100 trials = pool start + 100 x mean time per trial. `wall`: as measured "
        "(inflated when the machine is shared); `CPU-bound`: makespan of the 9 jobs' CPU "
        "seconds on the 2 workers (jobs handed out in order) + the parent's CPU time, i.e. "
        "the time on an otherwise idle 2-core machine."
    )
    emit()


def emit_targets(
    emit: Emit,
    measured: Mapping[str, Any],
    derived: Mapping[str, Any],
    tuning: Mapping[str, Any] | None,
    quick: bool,
) -> None:
    """The issue's targets with the measured figures and PASS/MISS verdicts."""
    plain, traced, naives = measured["plain"], measured["traced"], measured["naives"]
    slope, slope_span = derived["slope"], derived["slope_span"]
    ratio_total, ratio_run = derived["ratio_total"], derived["ratio_run"]
    emit("### Targets (issue 5)")
    emit()
    t1m = plain[1_000_000]["total_s"] if 1_000_000 in plain else None
    t1m_wall = plain[1_000_000]["wall_total_s"] if 1_000_000 in plain else None
    bpc = plain[1_000_000]["rss_peak_delta_bytes"] / 1_000_000 if 1_000_000 in plain else None
    bpc_traced = traced[1_000_000]["traced_peak_bytes"] / 1_000_000 if 1_000_000 in traced else None
    target_rows = [
        [
            "10^6 x 365 days, all mechanisms, one core",
            f"<= {TARGET_SECONDS_1M:g} s",
            f"{t1m:.2f} CPU s (build + run; wall {t1m_wall:.2f} s)"
            if t1m is not None
            else "not run (--quick)",
            verdict(None if t1m is None or quick else t1m <= TARGET_SECONDS_1M),
        ],
        [
            "speed-up over the naive Mesa model, N = 10^4",
            f">= {TARGET_NAIVE_RATIO:g}x",
            f"{ratio_total:.1f}x vs list loop (run only {ratio_run:.1f}x); "
            f"{naives['shuffle_do']['total_s'] / measured['naive_peer']['total_s']:.1f}x "
            "vs shuffle_do",
            verdict(ratio_total >= TARGET_NAIVE_RATIO),
        ],
        [
            "peak memory per consumer, N = 10^6",
            f"<= {TARGET_BYTES_PER_CONSUMER:g} B",
            f"{bpc:.0f} B (RSS), {bpc_traced:.0f} B (tracemalloc)"
            if bpc is not None and bpc_traced is not None
            else "not run (--quick)",
            verdict(
                None if bpc is None else max(bpc, bpc_traced or 0) <= TARGET_BYTES_PER_CONSUMER
            ),
        ],
        [
            f"log-log slope of time, {slope_span}",
            f"<= {TARGET_SLOPE:g}",
            f"{slope:.3f}",
            verdict(slope <= TARGET_SLOPE),
        ],
        [
            "tuning: 100 trials x 3 scenarios x 3 reps, N = 10^5, 2 cores",
            f"<= {TARGET_TUNING_MINUTES:g} min",
            f"{tuning['minutes_for_100_cpu_bound']:.1f} min CPU-bound (wall "
            f"{tuning['minutes_for_100']:.1f} min; extrapolated from {tuning['trials']} trials"
            f" of {tuning['days']} days)"
            if tuning
            else "not run",
            verdict(
                None
                if tuning is None or quick
                else tuning["minutes_for_100_cpu_bound"] <= TARGET_TUNING_MINUTES
            ),
        ],
    ]
    emit(table(["target", "goal", "measured", "verdict"], target_rows))
    emit()
    emit(
        "Verdicts use CPU time (one core = the CPU seconds of a single-threaded process) so that "
        f"other load on the machine does not decide them; load average at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}."
    )
    emit()
    if quick:
        emit("(--quick: reduced sizes and horizon; verdicts on absolute targets are n/a.)")
        emit()
