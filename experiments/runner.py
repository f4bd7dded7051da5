"""Replications on common random numbers: tasks, executors, and a resumable result store.

Replication ``k`` of scenario ``s`` is seeded by ``SeedSequence([seed, s, k])`` whatever the
variant, the executor or the number of workers, so variants are compared on the same draws.
Workers return results to the driver, which writes each finished replication at once
(``OUT/runs/<scenario>/<variant>/rep-<k>.parquet``, temp file + rename) and records it in
``OUT/manifest.json``. A rerun into the same ``OUT`` reuses every finished replication whose
scenario, strategies, seed and horizon are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from experiments.results import atomic_write, safe_path, write_json
from sim.errors import Problem, ScenarioError
from sim.scenario import Scenario, StrategyChoice


# ----------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class ReplicationTask:
    """One model run: a scenario (with a variant's strategies applied), a replication index."""

    scenario: Scenario
    scenario_index: int
    scenario_sha256: str
    variant: str
    rep: int
    seed: int
    days: int

    @property
    def seed_entropy(self) -> list[int]:
        """The ``SeedSequence`` entropy of this replication: ``[seed, scenario_index, rep]``."""
        return [self.seed, self.scenario_index, self.rep]

    @property
    def key(self) -> str:
        """Identity in the result store: scenario hash, variant and replication."""
        return f"{self.scenario_sha256[:12]}/{self.variant}/{self.rep}"

    @property
    def fingerprint(self) -> str:
        """Hash of everything that determines the result (strategies, seed, horizon)."""
        payload = {
            "scenario": self.scenario_sha256,
            "strategies": strategies_dict(self.scenario),
            "seed": self.seed_entropy,
            "days": self.days,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @property
    def relative_path(self) -> str:
        """Where the replication's KPI table is stored under ``OUT``."""
        return f"runs/{self.scenario_sha256[:12]}/{self.variant}/rep-{self.rep:04d}.parquet"


@dataclass(frozen=True)
class ReplicationResult:
    """What a worker returns for one task."""

    key: str
    kpis: pd.DataFrame
    orders: dict[str, int]
    started: float
    finished: float


def strategies_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario's strategy choices as plain data."""
    return scenario.strategies.model_dump(mode="json")


def with_strategies(scenario: Scenario, strategies: Mapping[str, Mapping[str, Any]]) -> Scenario:
    """A copy of ``scenario`` whose strategy choices are replaced kind by kind."""
    current = scenario.strategies
    updates: dict[str, Any] = {}
    for kind, spec in strategies.items():
        if kind == "decision_interval_days":
            updates[kind] = int(spec)  # type: ignore[arg-type]
            continue
        updates[kind] = StrategyChoice(name=spec["name"], params=dict(spec.get("params") or {}))
    return scenario.model_copy(update={"strategies": current.model_copy(update=updates)})


def run_task(task: ReplicationTask) -> ReplicationResult:
    """Run one replication (called in a worker process)."""
    from sim.model import MarketModel
    from strategies.registry import build_strategies

    started = time.time()
    model = MarketModel(
        task.scenario,
        strategies=build_strategies(task.scenario.strategies),
        seed=np.random.SeedSequence(task.seed_entropy),
        days=task.days,
    )
    kpis = model.run()
    return ReplicationResult(task.key, kpis, model.order_status_counts(), started, time.time())


# ----------------------------------------------------------------------------- executors
class Executor(Protocol):
    """Runs tasks and yields ``(task, result)`` pairs as they finish (any order).

    Executors hold worker processes or a cluster connection: ``close()`` them (or use them
    as context managers) when the command is done.
    """

    workers: int

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class LocalExecutor:
    """A process pool on this machine (``workers=1`` runs in-process).

    The pool is created on first use and kept for later calls (a tuning study runs many
    small batches); workers come from a fork server that has imported the model once.
    """

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
            if "forkserver" in methods:
                ctx.set_forkserver_preload(["experiments.runner", "sim.model"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        tasks = list(tasks)
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield task, fn(task)
            return
        pool = self._get_pool()
        pending: dict[Future, Any] = {}
        queue = iter(tasks)
        for task in queue:  # keep at most 2 tasks per worker in flight
            pending[pool.submit(fn, task)] = task
            if len(pending) >= 2 * self.workers:
                break
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = pending.pop(fut)
                    yield task, fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[pool.submit(fn, nxt)] = nxt
        finally:
            for fut in pending:
                fut.cancel()


def make_executor(name: str = "local", workers: int | None = None, **options: Any) -> Executor:
    """Executor by name (``local``; ``dask`` when installed, see docs/scaling.md).

    ``options`` go to the executor (``scheduler`` for ``dask``); a scheduler address with the
    local executor is refused rather than ignored.
    """
    if name == "local":
        if options.get("scheduler"):
            raise ScenarioError(
                [Problem("--scheduler", "", "a Dask scheduler needs --executor dask")]
            )
        return LocalExecutor(workers)
    if name == "dask":
        from experiments.dask_executor import DaskExecutor

        return DaskExecutor(workers=workers, **options)
    raise ValueError(f"unknown executor {name!r}; valid: ['local', 'dask']")


# ----------------------------------------------------------------------------- store
def package_versions() -> dict[str, str]:
    """Versions of marketsim and the libraries that shape its numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("marketsim", "mesa", "numpy", "scipy", "pandas", "simpy", "optuna", "pydantic"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_revision() -> str | None:
    """The source tree's git revision, when it is a git checkout."""
    root = Path(__file__).resolve().parents[1]
    try:
        res = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ResultStore:
    """``OUT/runs/*.parquet`` plus ``OUT/manifest.json``; every write is atomic."""

    out: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, out: str | Path, command: str, meta: Mapping[str, Any]) -> ResultStore:
        """Open (or create) the store; keep earlier runs for resuming."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = safe_path(out, "manifest.json")
        manifest: dict[str, Any] = {}
        if path.exists():
            try:
                manifest = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                manifest = {}  # a damaged manifest: recompute rather than trust it
        manifest.setdefault("created", _now())
        manifest.setdefault("runs", {})
        manifest["command"] = command
        manifest["argv"] = sys.argv[1:]
        manifest["package_versions"] = package_versions()
        manifest["git_revision"] = git_revision()
        manifest.update(meta)
        store = cls(out, manifest)
        store.save()
        return store

    def save(self) -> None:
        """Rewrite the manifest atomically."""
        self.manifest["updated"] = _now()
        write_json(self.out, "manifest.json", self.manifest)

    def load(self, task: ReplicationTask) -> pd.DataFrame | None:
        """A finished replication's KPI table, if stored with the same fingerprint."""
        entry = self.manifest["runs"].get(task.key)
        if not entry or entry.get("fingerprint") != task.fingerprint:
            return None
        path = safe_path(self.out, entry["file"])
        if not path.exists():
            return None
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError):
            return None

    def save_result(self, task: ReplicationTask, result: ReplicationResult) -> None:
        """Write one replication's table and record it (table first, then manifest)."""
        path = safe_path(self.out, task.relative_path)
        atomic_write(path, lambda p: result.kpis.to_parquet(p, index=False))
        self.manifest["runs"][task.key] = {
            "file": task.relative_path,
            "fingerprint": task.fingerprint,
            "scenario": task.scenario.name,
            "scenario_index": task.scenario_index,
            "scenario_sha256": task.scenario_sha256,
            "variant": task.variant,
            "rep": task.rep,
            "seed_entropy": task.seed_entropy,
            "days": task.days,
            "strategies": strategies_dict(task.scenario),
            "orders": result.orders,
            "started": datetime.fromtimestamp(result.started, UTC).isoformat(timespec="seconds"),
            "finished": datetime.fromtimestamp(result.finished, UTC).isoformat(timespec="seconds"),
        }
        self.save()


def progress(total: int, desc: str):
    """A progress bar on a terminal, silent otherwise."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", disable=not sys.stderr.isatty(), leave=False)


def run_replications(
    tasks: list[ReplicationTask],
    executor: Executor,
    store: ResultStore | None = None,
    desc: str = "replications",
) -> dict[str, pd.DataFrame]:
    """Run (or reuse) every task; return KPI tables by task key.

    Finished replications found in ``store`` are reused; every new result is written to the
    store as soon as it arrives, so an interrupted run loses no completed work.
    """
    results: dict[str, pd.DataFrame] = {}
    todo = []
    for task in tasks:
        cached = store.load(task) if store is not None else None
        if cached is not None:
            results[task.key] = cached
        else:
            todo.append(task)
    with progress(len(tasks), desc) as bar:
        bar.update(len(tasks) - len(todo))
        for task, result in executor.map_unordered(run_task, todo):
            if store is not None:
                store.save_result(task, result)
            results[task.key] = result.kpis
            bar.update(1)
    return results
