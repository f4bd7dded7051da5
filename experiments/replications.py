"""Replications on common random numbers: one task per (scenario, variant, replication).

Replication ``k`` of scenario ``s`` is seeded by ``SeedSequence([seed, s, k])`` whatever the
variant, the executor or the number of workers, so variants are compared on the same draws
(common random numbers). :func:`run_replications` runs tasks on an executor and, given a
:class:`~experiments.store.ResultStore`, writes each finished replication at once and reuses
finished ones on a rerun.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from experiments.knobs import MARKETING_KEY, apply_knobs
from sim.kpi_totals import KpiDetail
from sim.scenario import Scenario, StrategyChoice

if TYPE_CHECKING:
    from experiments.executors import Executor
    from experiments.store import ResultStore
    from sim.model import MarketModel

TIMESERIES_KPIS = (
    "net_profit_base",
    "revenue_base",
    "units",
    "market_share",
    "active_customers",
    "aware_share",
    "on_time_rate",
)
CUMULATIVE = {"net_profit_base", "revenue_base", "units"}


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
    kpi_detail: KpiDetail = "daily"  # "totals": the run keeps its horizon totals only

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
        if self.kpi_detail != "daily":  # a totals table is not a daily one (daily: as before)
            payload["kpi_detail"] = self.kpi_detail
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @property
    def relative_path(self) -> str:
        """Where the replication's KPI table is stored under ``OUT`` (Hive-style partitions)."""
        from experiments.outputs import RUNS

        return RUNS.path(
            scenario=self.scenario_sha256[:12], variant=path_segment(self.variant), rep=self.rep
        )


def path_segment(name: str) -> str:
    """``name`` as one safe path segment: URI-escaped (as Hive partitions are), never ``.``/``..``.

    Ordinary names (letters, digits, ``_``, ``-``, ``.``) are unchanged; ``/``, ``\\``, ``=``,
    spaces and control characters are escaped, so a name from an input file cannot leave its
    partition folder. ``pandas.read_parquet`` decodes them back.
    """
    from urllib.parse import quote

    segment = quote(name, safe="")
    return segment.replace(".", "%2E") if segment.strip(".") == "" else segment


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
    """A copy of ``scenario`` whose strategy choices are replaced kind by kind (and whose
    marketing budgets are scaled when the block sets ``marketing_budget_multiplier``)."""
    current = scenario.strategies
    updates: dict[str, Any] = {}
    for kind, spec in strategies.items():
        if kind == "decision_interval_days":
            updates[kind] = int(spec)  # type: ignore[arg-type]
            continue
        if kind == MARKETING_KEY:
            continue  # a scenario knob, applied below
        updates[kind] = StrategyChoice(name=spec["name"], params=dict(spec.get("params") or {}))
    chosen = scenario.model_copy(update={"strategies": current.model_copy(update=updates)})
    return apply_knobs(chosen, strategies)


def build_model(
    scenario: Scenario,
    seed: int | np.random.SeedSequence,
    days: int,
    kpi_detail: KpiDetail = "daily",
) -> MarketModel:
    """The model of one run: the scenario with its strategies, one seed, a horizon (and the
    KPI detail it keeps: ``sim.kpi_totals``)."""
    from sim.model import MarketModel
    from strategies.registry import build_strategies

    strategies = build_strategies(scenario.strategies)
    return MarketModel(scenario, strategies=strategies, seed=seed, days=days, kpi_detail=kpi_detail)


def run_task(task: ReplicationTask) -> ReplicationResult:
    """Run one replication (called in a worker process)."""
    started = time.time()
    seed = np.random.SeedSequence(task.seed_entropy)
    model = build_model(task.scenario, seed, task.days, task.kpi_detail)
    kpis = model.run()
    return ReplicationResult(task.key, kpis, model.order_status_counts(), started, time.time())


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


@dataclass(frozen=True)
class ScenarioSource:
    """A validated scenario with where it came from: the file (or ``<dict>``) and its hash.

    The hash keys stored replications: a file's bytes, or the canonical JSON of a scenario
    given as an object.
    """

    scenario: Scenario
    file: str
    sha256: str

    def meta(self, index: int = 0) -> dict[str, Any]:
        """The manifest's description of this scenario."""
        return {
            "index": index,
            "file": self.file,
            "sha256": self.sha256,
            "name": self.scenario.name,
        }


def scenario_source(scenario: Scenario | str | Path | Mapping[str, Any]) -> ScenarioSource:
    """Accept a scenario file path, a mapping with a file's content, or a loaded Scenario."""
    from experiments.files import file_sha256, load_scenario

    if isinstance(scenario, Scenario):
        text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
        return ScenarioSource(scenario, "<object>", hashlib.sha256(text.encode()).hexdigest())
    if isinstance(scenario, Mapping):
        loaded = load_scenario(scenario)
        text = json.dumps(loaded.model_dump(mode="json"), sort_keys=True)
        return ScenarioSource(loaded, "<dict>", hashlib.sha256(text.encode()).hexdigest())
    return ScenarioSource(load_scenario(scenario), str(scenario), file_sha256(scenario))


def build_tasks(
    variants: Mapping[str, Scenario],
    scenario_index: int,
    sha: str,
    reps: range,
    seed: int,
    days: int,
) -> list[ReplicationTask]:
    """Tasks for every variant x replication (rep-major so early results cover all variants)."""
    return [
        ReplicationTask(sc, scenario_index, sha, name, k, seed, days)
        for k in reps
        for name, sc in variants.items()
    ]


def run_variants(
    source: ScenarioSource,
    variants: Mapping[str, Scenario],
    reps: range,
    *,
    seed: int,
    days: int,
    executor: Executor,
    store: ResultStore | None,
    desc: str,
) -> dict[tuple[str, int], pd.DataFrame]:
    """Every variant x replication of one scenario; KPI tables by ``(variant, rep)``."""
    tasks = build_tasks(variants, 0, source.sha256, reps, seed, days)
    by_key = run_replications(tasks, executor, store, desc=desc)
    return {(t.variant, t.rep): by_key[t.key] for t in tasks}


@contextmanager
def executor_scope(executor: Executor | None, workers: int | None) -> Iterator[Executor]:
    """The given executor (left open), or a local one for the block (closed after it)."""
    if executor is not None:
        yield executor
        return
    from experiments.executors import LocalExecutor

    with LocalExecutor(workers) as local:
        yield local


def timeseries(frames: Mapping[tuple[str, int], pd.DataFrame]) -> pd.DataFrame:
    """Per variant, region and day: mean and 5%-95% band across replications."""
    rows = []
    by_variant: dict[str, list[pd.DataFrame]] = {}
    for (variant, _rep), frame in frames.items():
        by_variant.setdefault(variant, []).append(frame)
    for variant, group in by_variant.items():
        for kpi in TIMESERIES_KPIS:
            stack = []
            for frame in group:
                wide = frame.pivot(index="day", columns="region", values=kpi)
                stack.append(wide.cumsum() if kpi in CUMULATIVE else wide)
            arr = np.stack([s.to_numpy(dtype=float) for s in stack])
            template = stack[0]
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days (no deliveries)
                mean = np.nanmean(arr, axis=0)
                low = np.nanquantile(arr, 0.05, axis=0)
                high = np.nanquantile(arr, 0.95, axis=0)
            for j, region in enumerate(template.columns):
                rows.append(
                    pd.DataFrame(
                        {
                            "variant": variant,
                            "region": region,
                            "kpi": kpi + ("_cumulative" if kpi in CUMULATIVE else ""),
                            "day": template.index.to_numpy(),
                            "mean": mean[:, j],
                            "low": low[:, j],
                            "high": high[:, j],
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
