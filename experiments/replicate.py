"""`replicate`: one scenario on K common-random-number replications, KPI means with 95% CIs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.executors import Executor
from experiments.outfolder import check_folder
from experiments.outputs import HORIZON, HORIZON_TABLE_KPIS
from experiments.replications import (
    ScenarioSource,
    executor_scope,
    run_variants,
    scenario_source,
    strategies_dict,
    timeseries,
)
from experiments.results import write_csv, write_json
from experiments.stats import horizon_table, replication_totals, summarize
from experiments.store import ResultStore
from sim.scenario import Scenario

SEED_RULE = "SeedSequence([seed, 0, k])"


@dataclass(frozen=True)
class Replications:
    """What :func:`replicate` returns.

    Attributes:
        source: the scenario and the file (and hash) it came from.
        reps, seed, days: the replications run (replication k uses ``SeedSequence([seed, 0, k])``).
        per_rep: one row per replication and region with horizon totals (``replications.csv``).
        summary: mean, sd, 95% CI per region and KPI (``summary_ci.csv``).
        timeseries: per region, KPI and day: mean and 5-95% band (``timeseries.csv``).
        mean_daily: the daily KPI table averaged over replications (``kpis.csv``).
        horizon: value at the horizon per region, mean over replications (``horizon.csv``):
            customer equity and inventory value beside net profit, never added to it.
    """

    source: ScenarioSource
    reps: int
    seed: int
    days: int
    per_rep: pd.DataFrame
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    mean_daily: pd.DataFrame
    horizon: pd.DataFrame

    def totals(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{region: {kpi: {"mean", "low", "high"}}}``."""
        return {
            region: {
                row.kpi: {"mean": row.mean, "low": row.low, "high": row.high}
                for row in g.itertuples()
            }
            for region, g in self.summary.groupby("region", sort=False)
        }

    def write(self, out: str | Path) -> None:
        """Write the tables and ``summary.json`` into ``out``.

        Raises:
            StorageError: ``out`` is a file, or holds other files or another command's
                results (see :func:`experiments.outfolder.check_folder`).
        """
        check_folder(out, "run --reps")
        write_csv(out, "replications.csv", self.per_rep)
        write_csv(out, "summary_ci.csv", self.summary)
        write_csv(out, "timeseries.csv", self.timeseries)
        write_csv(out, "kpis.csv", self.mean_daily)
        write_csv(out, HORIZON.name, self.horizon)
        write_json(
            out,
            "summary.json",
            {
                "command": "run",
                "scenario": self.source.scenario.name,
                "scenario_sha256": self.source.sha256,
                "reps": self.reps,
                "seed_rule": SEED_RULE,
                "seed": self.seed,
                "confidence": 0.95,
                "totals": self.totals(),
            },
        )


def replicate(
    scenario: Scenario | str | Path | Mapping[str, Any],
    reps: int,
    *,
    seed: int | None = None,
    days: int | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
) -> Replications:
    """Run ``reps`` CRN replications of a scenario with its own strategies.

    Args:
        scenario: a scenario file, a mapping with its content, or a loaded Scenario.
        reps: number of replications.
        seed: overrides the scenario's seed; ``days`` overrides its horizon.
        executor: where to run (default: a local process pool of ``workers`` processes).
        out: when given, every finished replication is stored there at once (a rerun
            resumes) and the result tables are written at the end; otherwise nothing is
            written. It must be a new folder or hold an earlier ``run --reps`` (else refused
            before any work; ``force`` replaces it).

    Raises:
        StorageError: ``out`` is refused or in use by another command.
    """
    source = scenario_source(scenario)
    sc = source.scenario
    seed = sc.seed if seed is None else seed
    days = sc.horizon_days if days is None else days
    meta = {"scenarios": [source.meta()], "variants": {"scenario": strategies_dict(sc)}}
    with ResultStore.claim(out, "run", meta, force=force) as store:
        result = _replicate(source, reps, seed, days, executor, workers, store)
        if out is not None:
            result.write(out)
    return result


def _replicate(
    source: ScenarioSource,
    reps: int,
    seed: int,
    days: int,
    executor: Executor | None,
    workers: int | None,
    store: ResultStore | None,
) -> Replications:
    sc = source.scenario
    with executor_scope(executor, workers) as ex:
        frames = run_variants(
            source,
            {"scenario": sc},
            range(reps),
            seed=seed,
            days=days,
            executor=ex,
            store=store,
            desc="run",
        )
    per_rep = replication_totals(frames, ("variant", "rep"))
    mean_daily = (
        pd.concat(frames.values()).groupby(["day", "region"], sort=False).mean(numeric_only=True)
    )
    return Replications(
        source=source,
        reps=reps,
        seed=seed,
        days=days,
        per_rep=per_rep,
        summary=summarize(per_rep, ["region"]),
        timeseries=timeseries(frames),
        mean_daily=mean_daily.reset_index(),
        horizon=horizon_table(per_rep, HORIZON_TABLE_KPIS),
    )
