"""Futures as runnable tasks: each option on each sampled future, on common random numbers.

Every option runs on the same futures, and replication ``k`` uses
``SeedSequence([seed, 0, k])`` in every future and option: the outcome of a future is then
a function of its uncertain values (not of fresh noise), which is what sensitivity indices
and PRIM boxes need, and options stay paired within a future. A task's scenario hash is
taken over the final scenario (future values, option and fidelity applied), so a stored
replication is reused only when everything that determines it is unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.explore.designs import Design
from experiments.explore.uncertainties import UncertaintiesFile, future_data, parse_future
from experiments.replications import ReplicationTask, run_replications
from experiments.stats import totals
from sim.errors import Problem, ScenarioError
from sim.kpi_totals import KpiDetail
from sim.scenario import Scenario

#: horizon totals (region ALL) kept per run besides the primary KPI
OUTCOME_KPIS = ("net_profit_base", "revenue_base", "units", "new_customers")
CHUNK_TASKS = 96  # tasks per batch: KPI tables are reduced to totals after each batch

OptionBuilder = Callable[[Scenario], Scenario]


@dataclass(frozen=True)
class Fidelity:
    """How closely futures are simulated: a population scale and replications."""

    name: str
    population_scale: float
    reps: int


def scenario_sha(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def scaled(scenario: Scenario, scale: float) -> Scenario:
    """The scenario with every region's population (and stock levels kept) scaled."""
    if scale == 1.0:
        return scenario
    regions = [
        r.model_copy(update={"population": max(1, round(r.population * scale))})
        for r in scenario.regions
    ]
    return scenario.model_copy(update={"regions": regions})


def build_futures(
    spec: UncertaintiesFile, design: Design, base: Scenario, source: str
) -> list[Scenario]:
    """One validated scenario per future of the design.

    Raises:
        ScenarioError: a combination of values the scenario schema refuses (each future
            named with its values).
    """
    data = base.model_dump(mode="json")
    futures, problems = [], []
    for i, row in enumerate(design.values.itertuples(index=False)):
        try:
            futures.append(parse_future(future_data(data, spec.uncertainties, list(row)), source))
        except ScenarioError as exc:
            values = dict(zip(design.names, row, strict=True))
            problems += [
                Problem(source, f"future {i} {values}: {p.path}", p.message) for p in exc.problems
            ]
    if problems:
        raise ScenarioError(problems[:50])
    return futures


@dataclass
class Runner:
    """Runs (option, future) pairs at one fidelity and keeps the ALL-region totals.

    Only horizon totals are read, so by default each model run keeps its totals and no
    daily KPI table (``kpi_detail="totals"``, ``sim.kpi_totals``: the same totals to the bit);
    ``"daily"`` stores every run's daily table in the result store as well.
    """

    futures: list[Scenario]
    options: Mapping[str, OptionBuilder]
    kpis: tuple[str, ...]
    seed: int
    days: int | None
    executor: Any
    store: Any
    kpi_detail: KpiDetail = "totals"  # the runs keep only the horizon totals read here

    def __post_init__(self) -> None:
        self.rows: dict[tuple[str, int, str], list[dict[str, Any]]] = {}

    def task_list(self, fidelity: Fidelity, wanted: Mapping[str, list[int]]) -> list[Any]:
        """Tasks not run yet for ``{option: [future, ...]}``, future-major."""
        tasks = []
        pairs = sorted((f, o) for o, fs in wanted.items() for f in fs)
        for future, option in pairs:
            if (fidelity.name, future, option) in self.rows:
                continue
            sc = self.options[option](scaled(self.futures[future], fidelity.population_scale))
            sha, days = scenario_sha(sc), self.days or sc.horizon_days
            for rep in range(fidelity.reps):
                task = ReplicationTask(sc, 0, sha, option, rep, self.seed, days, self.kpi_detail)
                tasks.append((future, task))
        return tasks

    def run(self, fidelity: Fidelity, wanted: Mapping[str, list[int]], desc: str) -> None:
        """Run every missing task in batches, reducing each KPI table to its totals."""
        tasks = self.task_list(fidelity, wanted)
        for start in range(0, len(tasks), CHUNK_TASKS):
            chunk = tasks[start : start + CHUNK_TASKS]
            frames = run_replications([t for _, t in chunk], self.executor, self.store, desc)
            for future, task in chunk:
                total = totals(frames[task.key])["ALL"]
                row = {k: total[k] for k in self.kpis}
                row.update(scenario=task.scenario_sha256[:12], rep=task.rep)
                self.rows.setdefault((fidelity.name, future, task.variant), []).append(row)

    def outcomes(self, fidelity: Fidelity) -> pd.DataFrame:
        """One row per future and option: the mean over replications of each KPI total."""
        rows = []
        for (name, future, option), reps in sorted(self.rows.items()):
            if name != fidelity.name:
                continue
            frame = pd.DataFrame(reps)
            rows.append(
                {
                    "fidelity": name,
                    "future": future,
                    "option": option,
                    "scenario": reps[0]["scenario"],
                    "reps": len(reps),
                    **{k: float(frame[k].mean()) for k in self.kpis},
                }
            )
        return pd.DataFrame(rows)


def option_builders(
    base: Scenario,
    options: str | Path | None,
    variants: str | Path | Mapping[str, Any] | None,
) -> dict[str, OptionBuilder]:
    """``{name: future -> option scenario}`` from an entry options file or variants.

    Without either, the one option ``scenario`` runs the scenario as it is.
    """
    from experiments.replications import with_strategies

    if options is not None:
        from experiments.entry import load_options, option_scenario

        spec, _, _ = load_options(options)
        return {
            o.name: (lambda sc, o=o: option_scenario(sc, o, spec.horizon_days))
            for o in spec.options
        }
    if variants is not None:
        from experiments.files import load_variants

        if isinstance(variants, Mapping):
            chosen = {n: dict(s) for n, s in variants.items()}
        else:
            chosen = {v.name: v.strategies() for v in load_variants(variants, base).variants}
        return {
            n: (lambda sc, s=s: with_strategies(sc, copy.deepcopy(s))) for n, s in chosen.items()
        }
    return {"scenario": lambda sc: sc}
