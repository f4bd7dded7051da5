"""Benchmark suite for issue 5: ``python -m benchmarks.run [--quick]`` (``make bench``).

Measures, on the benchmark scenario ``benchmarks/scenario_bench.yaml`` (one region, 20 of
our products in 4 categories, 10 competitor offers repricing by undercut / match /
best_response, a 4-stage air lane with customs inspections and two disruptions, cost-plus
pricing, weekly decisions, the ``rfm_tiers`` retention strategy when registered, else ``none``):

1. consumer-days per second for one region of N = 10^4, 10^5, 10^6 consumers over 365 days,
   single process, each size in a fresh subprocess; the log-log slope of time 10^5 -> 10^6;
2. time per phase of the day (the model's methods wrapped with CPU-time accumulators,
   exclusive time; :class:`TimedMarketModel` - nothing in ``sim/`` is edited);
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
import datetime as dt
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.model import MarketModel
from sim.rng import SeedLike
from sim.scenario import Scenario
from sim.validation import parse_scenario
from strategies import registry
from strategies.registry import build_strategies

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIO_PATH = HERE / "scenario_bench.yaml"
RESULTS_PATH = HERE / "RESULTS.md"
REFERENCE_N = 100_000  # the YAML's stock, budget and lane capacities are sized for this N

# Targets of issue 5 (this 2-core machine).
TARGET_SECONDS_1M = 10.0
TARGET_NAIVE_RATIO = 100.0
TARGET_BYTES_PER_CONSUMER = 150.0
TARGET_SLOPE = 1.1
TARGET_TUNING_MINUTES = 10.0


# =========================================================================== scenario
@cache
def _bench_yaml() -> str:
    return SCENARIO_PATH.read_text(encoding="utf-8")


def retention_choice() -> str:
    """``rfm_tiers`` when registered, else ``none``."""
    return "rfm_tiers" if "rfm_tiers" in registry.names("retention") else "none"


def bench_data(
    n: int,
    days: int = 365,
    *,
    retention: str | None = None,
    variant: int = 0,
    markup: float | None = None,
) -> dict[str, Any]:
    """Raw scenario data of the benchmark scenario for ``n`` consumers and ``days`` days.

    Stock levels, marketing budget and lane servers scale with ``n / 100_000`` so that the
    market behaves alike at every size (stockouts stay rare, lanes are not overloaded, and
    SimPy work grows with the number of shipments, i.e. with ``n``).

    Args:
        n: consumers in the region.
        days: horizon.
        retention: retention strategy name (default :func:`retention_choice`).
        variant: 0 = base; 1 = price-sensitive market with aggressive competitors; 2 = high
            duty, stronger seasonality (the three scenarios of the tuning benchmark).
        markup: cost-plus markup (default: the YAML's).
    """
    data = yaml.safe_load(_bench_yaml())
    s = n / REFERENCE_N
    region = data["regions"][0]
    region["population"] = int(n)
    data["horizon_days"] = int(days)
    firm = data["firm"]
    firm["warehouses"][0]["initial_units"] = max(50, round(1000 * s))
    firm["inventory_policy"][0]["reorder_point"] = max(20, round(300 * s))
    firm["inventory_policy"][0]["order_quantity"] = max(50, round(1000 * s))
    firm["marketing_budget_monthly_base"]["BR"] = 3000.0 * s
    for lane in data["lanes"]:
        for stage in lane["stages"]:
            stage["servers"] = max(stage["servers"], round(stage["servers"] * s))
        for d in lane.get("disruptions", []):  # keep them inside shorter horizons
            if days < 365:
                length = d["end_day"] - d["start_day"]
                d["start_day"] = d["start_day"] * days // 365
                d["end_day"] = d["start_day"] + max(1, length * days // 365)
    data["strategies"]["retention"] = {"name": retention or retention_choice()}
    if markup is not None:
        data["strategies"]["pricing"]["params"]["markup"] = float(markup)
    if variant == 1:
        for seg in region["segments"]:
            seg["price_sensitivity"]["mean"] *= 1.5
        for comp in data["competitors"]:
            comp["behaviour"] = {"kind": "undercut", "reprice_every_days": 3, "undercut_share": 0.1}
        data["seed"] += 1
    elif variant == 2:
        region["tax"]["duty_rate"] = 0.9
        region["seasonality"] = [0.6, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0, 1.0, 1.1, 1.2, 2.2, 2.0]
        data["seed"] += 2
    elif variant != 0:
        raise ValueError(f"variant must be 0, 1 or 2, got {variant}")
    return data


def bench_scenario(n: int, days: int = 365, **kwargs: Any) -> Scenario:
    """The validated benchmark scenario (see :func:`bench_data`)."""
    return parse_scenario(bench_data(n, days, **kwargs), str(SCENARIO_PATH))


NAIVE_LABEL = {"loop": "list loop", "shuffle_do": "AgentSet.shuffle_do"}


# =========================================================================== phase timing
class PhaseTimer:
    """Exclusive time per phase: a wrapped call's time minus its wrapped callees' time.

    The default clock is the process CPU time (the benchmark machine may be shared).
    """

    def __init__(self, clock: Callable[[], float] = time.process_time) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[float]] = []

    def wrap(self, phase: str, fn: Callable[..., Any], inherit: bool = False) -> Callable:
        """``fn`` timed as ``phase``; with ``inherit``, a nested call counts for its caller."""
        stack, seconds, calls, perf = self._stack, self.seconds, self.calls, self.clock

        def timed(*args: Any, **kwargs: Any) -> Any:
            if inherit and len(stack) > 1:
                return fn(*args, **kwargs)
            frame = [0.0]
            stack.append(frame)
            t0 = perf()
            try:
                return fn(*args, **kwargs)
            finally:
                total = perf() - t0
                stack.pop()
                seconds[phase] += total - frame[0]
                calls[phase] += 1
                if stack:
                    stack[-1][0] += total

        return timed


# (phase key, issue phase group, what it covers)
PHASES: list[tuple[str, str, str]] = [
    ("awareness", "awareness", "RegionalConsumers.diffuse_awareness (Bass step)"),
    ("calendar", "occasions", "run_occasions loop, _due, _schedule (occasion calendar)"),
    ("offers", "occasions", "Observer.offers (offer arrays per category)"),
    ("utilities", "choice", "_occasion_round: utilities, bookkeeping, dropout"),
    ("gumbel", "choice", "sim.choice.sample_choices (Gumbel-max draw)"),
    ("fulfil", "firm", "fulfilment callback: stock, ledger, order book, RFM"),
    ("reorder", "firm", "Logistics.reorder"),
    ("deliveries", "firm", "Deliveries.process (returns, satisfaction)"),
    ("dispatch", "logistics", "Logistics.dispatch (consolidation, SimPy processes)"),
    ("simpy", "logistics", "env.run (SimPy events of the day)"),
    ("collect", "logistics", "Logistics.collect_shipments"),
    ("strategies", "strategies", "Decisions.run (views, decisions, apply)"),
    ("competitors", "competitors", "CompetitorAgent.reprice (incl. best responses)"),
    ("record", "KPI collection", "DailyKpis.record (daily KPI rows)"),
    ("kpi_frame", "KPI collection", "MarketModel.kpi_frame (table at the end of the run)"),
    ("other", "other", "step remainder: FX, running costs, retention expiry, arrivals"),
]


class TimedMarketModel(MarketModel):
    """:class:`MarketModel` with every phase of the day wrapped by a :class:`PhaseTimer`."""

    def __init__(self, scenario: Scenario, seed: SeedLike | None = None, **kwargs: Any):
        super().__init__(scenario, seed=seed, **kwargs)
        t = self.timer = PhaseTimer()
        self.step = t.wrap("other", self.step)
        for owner, name, phase in (
            (self.decisions, "run", "strategies"),
            (self.logistics, "dispatch", "dispatch"),
            (self.logistics, "reorder", "reorder"),
            (self.logistics, "collect_shipments", "collect"),
            (self.deliveries, "process", "deliveries"),
            (self.kpis, "record", "record"),
            (self, "kpi_frame", "kpi_frame"),
        ):
            setattr(owner, name, t.wrap(phase, getattr(owner, name)))
        self.observer.offers = t.wrap("offers", self.observer.offers, inherit=True)
        fulfiller = self.fulfilment.fulfiller
        self.fulfilment.fulfiller = lambda r, d: t.wrap("fulfil", fulfiller(r, d))
        self.env.run = t.wrap("simpy", self.env.run)
        for comp in self.competitors:
            comp.reprice = t.wrap("competitors", comp.reprice)
        for pop in self.consumers:
            pop.diffuse_awareness = t.wrap("awareness", pop.diffuse_awareness)
            pop.run_occasions = t.wrap("calendar", pop.run_occasions)
            for name in ("_due", "_schedule"):
                if hasattr(pop, name):
                    setattr(pop, name, t.wrap("calendar", getattr(pop, name)))
            if hasattr(pop, "_occasion_round"):
                pop._occasion_round = t.wrap("utilities", pop._occasion_round)

    @contextmanager
    def sampling_timed(self) -> Iterator[None]:
        """Time ``sim.consumers.sample_choices`` (a module global) while the block runs."""
        import sim.consumers as consumers_module

        original = consumers_module.sample_choices
        consumers_module.sample_choices = self.timer.wrap("gumbel", original)
        try:
            yield
        finally:
            consumers_module.sample_choices = original


# =========================================================================== worker side
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
    scenario = bench_scenario(n, days)
    gc.collect()
    base_rss, _ = _rss_kib()
    hwm_reset = _reset_peak_rss()
    use_tracemalloc = bool(task.get("tracemalloc"))
    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    out: dict[str, Any] = {"n": n, "days": days, "kind": kind, "retention": retention_choice()}
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


def _worker(task: Mapping[str, Any]) -> dict[str, Any]:
    if task["task"] == "model":
        return _measure_model(task)
    if task["task"] == "lane":
        return _lane_task(task)
    raise ValueError(f"unknown task {task['task']!r}")


# =========================================================================== driver side
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


# --------------------------------------------------------------------------- tuning
def _tuning_job(args: tuple[float, int, int, int, int]) -> tuple[float, float]:
    """One model run of a tuning trial: (total net profit, CPU seconds of the job)."""
    c0 = time.process_time()
    markup, variant, rep, n, days = args
    scenario = bench_scenario(n, days, variant=variant, markup=markup)
    model = MarketModel(
        scenario, strategies=build_strategies(scenario.strategies), seed=10_000 * variant + rep
    )
    df = model.run()
    profit = float(df.loc[df["region"] == "ALL", "net_profit_base"].sum())
    return profit, time.process_time() - c0


def _makespan(durations: list[float], workers: int) -> float:
    """Wall time of running ``durations`` in order on ``workers`` (each job to the first free)."""
    free = [0.0] * workers
    for d in durations:
        i = free.index(min(free))
        free[i] += d
    return max(free)


def _noop(x: int) -> int:
    import sim.model  # noqa: F401  (imports the simulation in the worker)

    return x


def tuning_benchmark(trials: int, n: int, days: int, workers: int = 2) -> dict[str, Any]:
    """Optuna trials (cost-plus markup) of 3 scenarios x 3 replications on a process pool."""
    import concurrent.futures as cf

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.perf_counter()
    pool = cf.ProcessPoolExecutor(max_workers=workers)
    list(pool.map(_noop, range(workers)))
    startup = time.perf_counter() - t0
    trial_times: list[float] = []
    trial_cpu_bound: list[float] = []

    def objective(trial: optuna.Trial) -> float:
        markup = trial.suggest_float("markup", 0.1, 1.5)
        jobs = [(markup, v, rep, n, days) for v in range(3) for rep in range(3)]
        t = time.perf_counter()
        results = list(pool.map(_tuning_job, jobs))
        trial_times.append(time.perf_counter() - t)
        trial_cpu_bound.append(_makespan([c for _, c in results], workers))
        return float(np.mean([p for p, _ in results]))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    t1, c1 = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=trials)
    elapsed = time.perf_counter() - t1
    parent_cpu = time.process_time() - c1
    pool.shutdown()
    per_trial = elapsed / trials
    # what the trials take on an otherwise idle machine: the makespan of the jobs' CPU
    # seconds on the workers plus the parent's own CPU time (Optuna, pickling)
    per_trial_cpu = (sum(trial_cpu_bound) + parent_cpu) / trials
    return {
        "per_trial_cpu_bound_s": per_trial_cpu,
        "minutes_for_100_cpu_bound": (startup + 100 * per_trial_cpu) / 60.0,
        "trials": trials,
        "n": n,
        "days": days,
        "workers": workers,
        "startup_s": startup,
        "elapsed_s": elapsed,
        "per_trial_s": per_trial,
        "trial_s": trial_times,
        "trials_per_min": 60.0 / per_trial,
        "minutes_for_100": (startup + 100 * per_trial) / 60.0,
        "best_markup": study.best_params["markup"],
    }


# --------------------------------------------------------------------------- machine
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


def _table(headers: list[str], rows: list[list[str]]) -> str:
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


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    if args.worker:
        result = _worker(json.loads(args.worker))
        print("RESULT " + json.dumps(result))
        return 0

    quick = args.quick
    days = 60 if quick else 365
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    repeats = {10_000: 3, 100_000: 2, 1_000_000: 1}
    info = machine_info()
    retention = retention_choice()
    out: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        out.append(text)

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

    # ---------------------------------------------------------------- 1+3: sizes
    t_start = time.perf_counter()
    plain: dict[int, dict[str, Any]] = {}
    for n in sizes:
        print(f"... N={n:,}: timing", file=sys.stderr, flush=True)
        plain[n] = run_subprocess(
            {"task": "model", "n": n, "days": days, "repeats": repeats[n] if not quick else 1}
        )
    naives: dict[str, dict[str, Any]] = {}
    for scheduler in ("loop", "shuffle_do"):
        print(f"... naive model ({scheduler})", file=sys.stderr, flush=True)
        naives[scheduler] = run_subprocess(
            {"task": "model", "kind": "naive", "scheduler": scheduler, "n": 10_000, "days": days}
        )
    naive = naives["loop"]
    phases: dict[int, dict[str, Any]] = {}
    for n in sizes:
        print(f"... N={n:,}: phases", file=sys.stderr, flush=True)
        phases[n] = run_subprocess({"task": "model", "n": n, "days": days, "phases": True})
    traced: dict[int, dict[str, Any]] = {}
    for n in sizes[-2:]:
        print(f"... N={n:,}: tracemalloc", file=sys.stderr, flush=True)
        traced[n] = run_subprocess({"task": "model", "n": n, "days": days, "tracemalloc": True})

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
        _table(
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
    ratio_total = naive["total_s"] / plain[10_000]["total_s"]
    ratio_run = naive["run_s"] / plain[10_000]["run_s"]
    slope_span = "10^5 -> 10^6" if big > 100_000 else "10^4 -> 10^5"
    emit(f"- log-log slope of total time, {slope_span}: {slope:.3f}")
    for scheduler, nv in naives.items():
        emit(
            f"- naive ({NAIVE_LABEL[scheduler]}) / vectorized at N = 10^4: "
            f"{nv['total_s'] / plain[10_000]['total_s']:.1f}x (build + run), "
            f"{nv['run_s'] / plain[10_000]['run_s']:.1f}x (run only); per agent-day "
            f"{1e6 * nv['run_s'] / (10_000 * days):.2f} us vs "
            f"{1e6 * plain[10_000]['run_s'] / (10_000 * days):.3f} us vectorized"
        )
    ph_naive_cons = None
    ph10 = phases[10_000]["phases"]
    real_consumer_10k = sum(
        ph10.get(k, 0.0) for k in ("awareness", "calendar", "utilities", "gumbel")
    )
    shared_10k = phases[10_000]["run_s"] - real_consumer_10k
    if shared_10k > 0:
        ph_naive_cons = (naive["run_s"] - shared_10k) / real_consumer_10k
        emit(
            f"- consumer phases only, approx. (awareness + occasions + choice; naive list-loop "
            f"run time minus the shared firm/lane/strategy/KPI time of the instrumented "
            f"vectorized run): {ph_naive_cons:.0f}x"
        )
    emit(
        f"- KPI check (naive vs vectorized, one seed, N = 10^4): occasions "
        f"{naive['kpis']['occasions']:,.0f} vs {plain[10_000]['kpis']['occasions']:,.0f}, our "
        f"units {naive['kpis']['units']:,.0f} vs {plain[10_000]['kpis']['units']:,.0f}, aware "
        f"at end {naive['kpis']['aware_share_end']:.3f} vs "
        f"{plain[10_000]['kpis']['aware_share_end']:.3f} (statistical equivalence: "
        f"tests/test_naive_equivalence.py)"
    )
    emit()

    # ---------------------------------------------------------------- 2: phases
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
    emit(_table(headers, rows))
    emit()
    groups: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for key, group, _ in PHASES:
        for n in sizes:
            groups[group][n] += phases[n]["phases"].get(key, 0.0)
    grows = []
    for group, by_n in groups.items():
        grows.append([group, *(f"{100 * by_n[n] / phases[n]['run_s']:.1f}" for n in sizes)])
    emit(_table(["phase group", *(f"N={n:,} %" for n in sizes)], grows))
    emit()

    # ---------------------------------------------------------------- 5: lanes
    lane_cases = (
        [(2_000, 1), (50_000, 50)] if quick else [(10_000, 1), (200_000, 50), (1_000_000, 1000)]
    )
    lane_rows = []
    for orders, cap in lane_cases:
        print(f"... lane: {orders:,} orders, cap {cap}", file=sys.stderr, flush=True)
        lr = run_subprocess({"task": "lane", "orders": orders, "cap": cap})
        lane_rows.append(
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
        )
    emit("### SimPy lane throughput (one heavy day through a 4-stage lane, LaneAgent directly)")
    emit()
    emit(
        _table(
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

    # ---------------------------------------------------------------- 6: tuning
    tuning: dict[str, Any] | None = None
    if not args.no_tuning:
        trials = args.tune_trials or (1 if quick else 4)
        tune_days = 30 if quick else 365
        print(f"... tuning: {trials} trials", file=sys.stderr, flush=True)
        tuning = tuning_benchmark(trials, 100_000, tune_days)
        emit("### Tuning throughput (Optuna, 3 scenarios x 3 replications, N = 10^5)")
        emit()
        emit(
            _table(
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

    # ---------------------------------------------------------------- targets
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
            _verdict(None if t1m is None or quick else t1m <= TARGET_SECONDS_1M),
        ],
        [
            "speed-up over the naive Mesa model, N = 10^4",
            f">= {TARGET_NAIVE_RATIO:g}x",
            f"{ratio_total:.1f}x vs list loop (run only {ratio_run:.1f}x); "
            f"{naives['shuffle_do']['total_s'] / plain[10_000]['total_s']:.1f}x vs shuffle_do",
            _verdict(ratio_total >= TARGET_NAIVE_RATIO),
        ],
        [
            "peak memory per consumer, N = 10^6",
            f"<= {TARGET_BYTES_PER_CONSUMER:g} B",
            f"{bpc:.0f} B (RSS), {bpc_traced:.0f} B (tracemalloc)"
            if bpc is not None and bpc_traced is not None
            else "not run (--quick)",
            _verdict(
                None if bpc is None else max(bpc, bpc_traced or 0) <= TARGET_BYTES_PER_CONSUMER
            ),
        ],
        [
            f"log-log slope of time, {slope_span}",
            f"<= {TARGET_SLOPE:g}",
            f"{slope:.3f}",
            _verdict(slope <= TARGET_SLOPE),
        ],
        [
            "tuning: 100 trials x 3 scenarios x 3 reps, N = 10^5, 2 cores",
            f"<= {TARGET_TUNING_MINUTES:g} min",
            f"{tuning['minutes_for_100_cpu_bound']:.1f} min CPU-bound (wall "
            f"{tuning['minutes_for_100']:.1f} min; extrapolated from {tuning['trials']} trials"
            f" of {tuning['days']} days)"
            if tuning
            else "not run",
            _verdict(
                None
                if tuning is None or quick
                else tuning["minutes_for_100_cpu_bound"] <= TARGET_TUNING_MINUTES
            ),
        ],
    ]
    emit(_table(["target", "goal", "measured", "verdict"], target_rows))
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
    emit(f"Benchmark wall time: {time.perf_counter() - t_start:.0f} s.")
    emit()

    if not args.no_append and (not quick or args.append):
        with RESULTS_PATH.open("a", encoding="utf-8") as fh:
            if RESULTS_PATH.stat().st_size == 0:
                fh.write(
                    "# Benchmark results\n\nAppended by `python -m benchmarks.run` "
                    "(`make bench`); newest last.\n\n"
                )
            fh.write("\n".join(out) + "\n")
        print(f"appended to {RESULTS_PATH.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
