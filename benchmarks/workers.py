"""Measurements run in a fresh worker process: one model (time, memory, KPIs) or one lane."""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.scenario import ROOT, bench_every_scenario, bench_scenario, retention_choice
from benchmarks.timing import TimedMarketModel
from experiments.explore.futures import scaled
from experiments.files import load_scenario
from sim.model import MarketModel
from sim.scenario import Scenario
from strategies.registry import build_strategies


def _rss_kib() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in KiB from /proc (0, ru_maxrss elsewhere)."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        return 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    rss, hwm = _rss_kib()
    return hwm <= rss + 64


def _kpi_summary(df: Any) -> dict[str, float]:
    all_rows = df[df["region"] == "ALL"]
    out = {
        k: float(all_rows[k].sum())
        for k in (
            "occasions",
            "market_units",
            "units",
            "stockouts",
            "new_customers",
            "revenue_base",
            "net_profit_base",
        )
    }
    out["aware_share_end"] = float(all_rows["aware_share"].iloc[-1])
    out["customers_end"] = float(all_rows["customers"].iloc[-1])
    return out


def task_scenario(task: Mapping[str, Any], n: int, days: int) -> Scenario:
    """The benchmark scenario at ``n`` consumers; with ``"scenario": "all_on"`` the shipped
    default scenario (seller nests, acquisition channels and word of mouth, product fit and
    launch stock, baskets and bundles, experience, two regions) scaled to ``n`` consumers in
    total (its stock levels kept), ``days`` days, with the benchmark's retention strategy;
    with ``"bench_every"`` the benchmark scenario with every newer mechanism switched on
    (:func:`benchmarks.scenario.bench_every_data`)."""
    choice = task.get("scenario", "bench")
    if choice == "bench":  # ``"retention"``: the strategy's name (default: retention_choice)
        return bench_scenario(n, days, retention=task.get("retention"))
    if choice == "bench_every":
        return bench_every_scenario(n, days, retention=task.get("retention"))
    if choice != "all_on":
        known = "bench, bench_every, all_on"
        raise ValueError(f"unknown benchmark scenario {choice!r}; known: {known}")
    base = load_scenario(ROOT / "scenarios" / "default.yaml")
    total = sum(r.population for r in base.regions)
    data = scaled(base, n / total).model_dump(mode="json")
    data["horizon_days"] = days
    data["strategies"]["retention"] = {"name": retention_choice()}
    for lane in data["lanes"]:  # a shorter run keeps the disruptions it reaches
        kept = [d for d in lane.get("disruptions") or [] if d["start_day"] < days]
        lane["disruptions"] = [{**d, "end_day": min(d["end_day"], days)} for d in kept]
    return load_scenario(data)


def _measure_model(task: Mapping[str, Any]) -> dict[str, Any]:
    """Build and run one model in this (fresh) process; time, memory and KPIs.

    Memory, two methods:
    * ``rss``: the process first imports everything and builds and runs a 2,000-consumer
      model for 20 days (warm-up), frees it, then records its RSS as the baseline and resets
      the kernel's peak-RSS mark (``/proc/self/clear_refs`` = 5; falls back to ``ru_maxrss``);
      peak = VmHWM after the run; the figure is (peak - baseline) / N: all memory the model
      touched, including allocator slack and Python objects.
    * ``tracemalloc`` (separate run, ``task['tracemalloc']``): peak of traced allocations
      (Python objects and numpy buffers, which numpy reports to tracemalloc) during
      construction + run, / N; also the traced memory still held after the run.
    """
    kind = task.get("kind", "real")
    n, days = int(task["n"]), int(task["days"])
    repeats = int(task.get("repeats", 1))
    if kind == "naive":
        from benchmarks.naive import NaiveMarketModel

        cls: type[MarketModel] = partial(  # type: ignore[assignment]
            NaiveMarketModel, scheduler=task.get("scheduler", "loop")
        )
    elif task.get("phases"):
        cls = TimedMarketModel
    else:
        cls = MarketModel
    warm_scenario = bench_scenario(2000, 20)
    warm = MarketModel(warm_scenario, strategies=build_strategies(warm_scenario.strategies))
    warm.run()
    del warm
    scenario = task_scenario(task, n, days)
    gc.collect()
    base_rss, _ = _rss_kib()
    hwm_reset = _reset_peak_rss()
    use_tracemalloc = bool(task.get("tracemalloc"))
    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    out: dict[str, Any] = {"n": n, "days": days, "kind": kind}
    out["scenario"] = task.get("scenario", "bench")
    out["retention"] = scenario.strategies.retention.name
    builds, runs, cpu_builds, cpu_runs = [], [], [], []
    for rep in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model = cls(scenario, strategies=build_strategies(scenario.strategies))
        t1, c1 = time.perf_counter(), time.process_time()
        if isinstance(model, TimedMarketModel):
            with model.sampling_timed():
                df = model.run()
        else:
            df = model.run()
        t2, c2 = time.perf_counter(), time.process_time()
        builds.append(t1 - t0)
        runs.append(t2 - t1)
        cpu_builds.append(c1 - c0)
        cpu_runs.append(c2 - c1)
        if rep == 0:
            _, peak = _rss_kib()
            if not hwm_reset:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            out["rss_peak_delta_bytes"] = (peak - base_rss) * 1024
            out["rss_method"] = "VmHWM reset" if hwm_reset else "ru_maxrss"
            if use_tracemalloc:
                current, traced_peak = tracemalloc.get_traced_memory()
                out["traced_peak_bytes"] = traced_peak
                out["traced_held_bytes"] = current
                tracemalloc.stop()
            out["kpis"] = _kpi_summary(df)
            pops = getattr(model, "consumers", [])
            if pops and hasattr(pops[0], "nbytes"):
                out["consumer_array_bytes"] = sum(p.nbytes() for p in pops)
            if isinstance(model, TimedMarketModel):
                out["phases"] = dict(model.timer.seconds)
                out["phase_calls"] = dict(model.timer.calls)
        if rep < repeats - 1:
            del model, df
            gc.collect()
    # wall clock and CPU time of this single-threaded process (robust to other load)
    out["wall_build_s"] = min(builds)
    out["wall_run_s"] = min(runs)
    out["wall_total_s"] = min(b + r for b, r in zip(builds, runs, strict=True))
    out["build_s"] = min(cpu_builds)
    out["run_s"] = min(cpu_runs)
    out["total_s"] = min(b + r for b, r in zip(cpu_builds, cpu_runs, strict=True))
    out["repeats"] = repeats
    return out


def _lane_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """One heavy day through a 4-stage lane: dispatch ``orders`` orders, run SimPy to the end."""
    import mesa
    import simpy

    from sim.lanes import LaneAgent
    from sim.scenario import Lane

    orders, cap = int(task["orders"]), int(task["cap"])
    lane = Lane.model_validate(
        {
            "id": "heavy",
            "origin": "CN",
            "destination": "BR",
            "mode": "air",
            "promised_days": 10,
            "max_units_per_shipment": cap,
            "stages": [
                {
                    "name": "pickpack",
                    "servers": 40,
                    "service_hours": {"dist": "lognormal", "mean": 4, "sd": 1.5},
                },
                {
                    "name": "export",
                    "servers": 20,
                    "service_hours": {"dist": "exponential", "mean": 2},
                },
                {
                    "name": "linehaul",
                    "servers": 100,
                    "service_hours": {"dist": "deterministic", "value": 30},
                },
                {
                    "name": "customs",
                    "servers": 30,
                    "service_hours": {"dist": "exponential", "mean": 3},
                },
            ],
            "customs": {
                "stage": "customs",
                "inspection_probability": 0.15,
                "delay_hours": {"dist": "lognormal", "mean": 48, "sd": 24},
            },
            "last_mile_days": {"dist": "lognormal", "mean": 3.0, "sd": 1.5},
            "loss_probability": 0.01,
            "disruptions": [
                {"stage": "linehaul", "start_day": 0, "end_day": 2, "capacity_multiplier": 0.5}
            ],
        }
    )
    model = mesa.Model(rng=np.random.default_rng(0))
    env = simpy.Environment()
    agent = LaneAgent(model, lane, env, np.random.default_rng(1))
    ids = np.arange(orders, dtype=np.int64)
    units = np.ones(orders, dtype=np.int64)
    clock = time.process_time  # single-threaded: CPU time, robust to other load
    t0 = clock()
    shipments = agent.dispatch(0, ids, units)
    t1 = clock()
    env.run()
    t2 = clock()
    done = agent.pop_completed()
    delivered = sum(len(r.order_ids) for r in done)
    return {
        "orders": orders,
        "cap": cap,
        "shipments": shipments,
        "completed_shipments": len(done),
        "completed_orders": delivered,
        "dispatch_s": t1 - t0,
        "simpy_s": t2 - t1,
        "total_s": t2 - t0,
        "last_hour": float(env.now),
    }


def run_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """Run one measurement task (``model`` or ``lane``) in this process."""
    if task["task"] == "model":
        return _measure_model(task)
    if task["task"] == "lane":
        return _lane_task(task)
    raise ValueError(f"unknown task {task['task']!r}")


# --------------------------------------------------------------------------- driver side
def run_subprocess(task: Mapping[str, Any], timeout: float = 1800.0) -> dict[str, Any]:
    """Run one task in a fresh interpreter (``python -m benchmarks.run --worker JSON``)."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--worker", json.dumps(task)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"worker {task} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
