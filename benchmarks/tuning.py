"""Tuning throughput: Optuna trials of 3 scenarios x 3 replications on a process pool."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks.scenario import bench_scenario
from sim.model import MarketModel
from strategies.registry import build_strategies


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
