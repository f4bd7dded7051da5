"""`compare`: strategy variants on paired CRN replications: differences, P(best), ranking.

With ``precision`` the comparison adds paired replications in batches of ``min_reps`` until
the primary KPI's 95% CI half-width is within that share of its mean for every variant (or
``max_reps`` is reached); the batches are the same whatever the executor, so the stopping
point is too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.executors import Executor
from experiments.files import VariantsFile, load_variants
from experiments.outfolder import check_folder
from experiments.replications import (
    ScenarioSource,
    executor_scope,
    run_variants,
    scenario_source,
    strategies_dict,
    timeseries,
    with_strategies,
)
from experiments.results import write_csv, write_json
from experiments.stats import (
    kpi_ci,
    paired_differences,
    probability_best,
    ranking,
    replication_totals,
    summarize,
)
from experiments.store import ResultStore
from sim.errors import UsageError
from sim.kpis import KPI_BY_NAME, KPIS, kpi_named
from sim.scenario import Scenario


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` returns.

    Attributes:
        source: the scenario and the file (and hash) it came from.
        primary_kpi, baseline, variants: what was compared (variant names in file order).
        reps: paired replications per variant; ``precision``: target, reps, why it stopped
            and the worst relative CI half-width reached.
        per_rep: horizon totals per variant, replication and region (``replications.csv``).
        summary: mean and 95% CI per variant, region and KPI (``summary_ci.csv``).
        differences: variant minus baseline, paired by replication (``differences.csv``).
        ranking: variants ranked on the primary KPI with CI and P(best) (``ranking.csv``).
        timeseries: per variant, region, KPI and day: mean and 5-95% band.
        p_best: per KPI with a direction, the probability each variant has the best mean
            (paired bootstrap, see :func:`experiments.stats.probability_best`).
    """

    source: ScenarioSource
    primary_kpi: str
    baseline: str
    variants: list[str]
    reps: int
    precision: dict[str, Any]
    per_rep: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    ranking: pd.DataFrame
    timeseries: pd.DataFrame
    p_best: dict[str, dict[str, float]]

    def write(self, out: str | Path) -> None:
        """Write the tables and ``summary.json`` into ``out``.

        Raises:
            StorageError: ``out`` is a file, or holds other files or another command's
                results (see :func:`experiments.outfolder.check_folder`).
        """
        check_folder(out, "compare")
        write_csv(out, "replications.csv", self.per_rep)
        write_csv(out, "summary_ci.csv", self.summary)
        write_csv(out, "differences.csv", self.differences)
        write_csv(out, "ranking.csv", self.ranking)
        write_csv(out, "timeseries.csv", self.timeseries)
        diffs = self.differences
        write_json(
            out,
            "summary.json",
            {
                "command": "compare",
                "scenario": self.source.scenario.name,
                "currency": self.source.scenario.currency,
                "primary_kpi": self.primary_kpi,
                "baseline": self.baseline,
                "variants": self.variants,
                "reps": self.reps,
                "precision": self.precision,
                "ranking": self.ranking.to_dict(orient="records"),
                "differences_primary": diffs[diffs["kpi"] == self.primary_kpi].to_dict(
                    orient="records"
                ),
                "p_best": self.p_best,
            },
        )


def worst_relative_half_width(per_rep: pd.DataFrame, kpi: str) -> float:
    """The largest 95% CI half-width / |mean| of ``kpi`` (region ALL) over the variants."""
    data = per_rep[per_rep["region"] == "ALL"]
    worst = 0.0
    for _, g in data.groupby("variant"):
        x = g[kpi].to_numpy(dtype=float)
        if len(x) < 2:
            return float("inf")
        ci = kpi_ci(kpi, x)
        rel = ci["half_width"] / abs(ci["mean"]) if ci["mean"] else float("inf")
        worst = max(worst, rel)
    return worst


def _variant_scenarios(
    base: Scenario, variants: str | Path | VariantsFile | Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Scenario], str | None]:
    """Scenarios per variant name (file order) and the file's baseline, if it names one."""
    if isinstance(variants, Mapping):
        return {n: with_strategies(base, s) for n, s in variants.items()}, None
    vfile = variants if isinstance(variants, VariantsFile) else load_variants(variants, base)
    return {v.name: with_strategies(base, v.strategies()) for v in vfile.variants}, vfile.baseline


def _check_sizes(reps: int, precision: float | None, min_reps: int, max_reps: int) -> None:
    if precision is None and reps < 1:
        raise UsageError(f"--reps: at least 1 replication, got {reps}")
    if precision is not None and not 0 < precision < 1:
        raise UsageError(f"--precision must be between 0 and 1, got {precision}")
    if precision is not None and not 1 <= min_reps <= max_reps:
        raise UsageError(f"`1 <= min_reps <= max_reps` must hold, got {min_reps=}, {max_reps=}")


def compare(
    scenario: Scenario | str | Path | Mapping[str, Any],
    variants: str | Path | VariantsFile | Mapping[str, Mapping[str, Any]],
    *,
    baseline: str | None = None,
    kpi: str = "net_profit_base",
    reps: int = 20,
    precision: float | None = None,
    min_reps: int = 10,
    max_reps: int = 200,
    seed: int | None = None,
    days: int | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
) -> Comparison:
    """Compare strategy variants of one scenario on paired (CRN) replications.

    Args:
        scenario: a scenario file, a mapping with its content, or a loaded Scenario.
        variants: a variants file, a loaded :class:`VariantsFile`, or a mapping
            ``{name: {kind: {"name", "params"}}}`` (kinds left out keep the scenario's).
        baseline: the variant the others are compared with (default: the file's, else the
            first).
        kpi: the primary KPI (ranking, P(best), precision).
        reps: replications per variant; or ``precision`` (relative 95% CI half-width target)
            with batches of ``min_reps`` up to ``max_reps``.
        seed, days: override the scenario's seed and horizon.
        executor: where to run (default: a local process pool of ``workers`` processes).
        out: when given, replications are stored there as they finish (a rerun resumes) and
            the tables are written at the end; otherwise nothing is written. It must be a new
            folder or hold an earlier ``compare`` (else refused before any work; ``force``
            replaces it).

    Raises:
        UsageError: an invalid argument; StorageError: ``out`` is refused or in use.
    """
    source = scenario_source(scenario)
    base = source.scenario
    primary = kpi_named(kpi, "--kpi").name
    _check_sizes(reps, precision, min_reps, max_reps)
    by_name, file_baseline = _variant_scenarios(base, variants)
    names = list(by_name)
    baseline = baseline or file_baseline or names[0]
    if baseline not in by_name:
        raise UsageError(f"baseline: {baseline!r} is not one of {names}")
    seed = base.seed if seed is None else seed
    days = base.horizon_days if days is None else days
    meta = {
        "scenarios": [source.meta()],
        "variants": {n: strategies_dict(sc) for n, sc in by_name.items()},
        "baseline": baseline,
        "primary_kpi": primary,
    }
    with ResultStore.claim(out, "compare", meta, force=force) as store:

        def run(n: int) -> dict[tuple[str, int], pd.DataFrame]:
            return run_variants(
                source,
                by_name,
                range(n),
                seed=seed,
                days=days,
                executor=ex,
                store=store,
                desc="compare",
            )

        with executor_scope(executor, workers) as ex:
            frames, reps, stopped = _run_batches(run, primary, reps, precision, min_reps, max_reps)
        result = _comparison(source, primary, baseline, names, reps, precision, stopped, frames)
        if out is not None:
            result.write(out)
    return result


def _run_batches(
    run: Callable[[int], dict[tuple[str, int], pd.DataFrame]],
    primary: str,
    reps: int,
    precision: float | None,
    min_reps: int,
    max_reps: int,
) -> tuple[dict[tuple[str, int], pd.DataFrame], int, str]:
    """``reps`` replications, or batches of ``min_reps`` until ``precision`` (or the cap)."""
    if precision is None:
        return run(reps), reps, "fixed"
    reps = max(min_reps, 2)
    while True:
        frames = run(reps)
        worst = worst_relative_half_width(replication_totals(frames, ("variant", "rep")), primary)
        if worst <= precision:
            return frames, reps, "precision reached"
        if reps >= max_reps:
            return frames, reps, "cap reached"
        reps = min(max_reps, reps + min_reps)


def _comparison(
    source: ScenarioSource,
    primary: str,
    baseline: str,
    names: list[str],
    reps: int,
    precision: float | None,
    stopped: str,
    frames: dict[tuple[str, int], pd.DataFrame],
) -> Comparison:
    per_rep = replication_totals(frames, ("variant", "rep"))
    kpis = [k.name for k in KPIS]
    return Comparison(
        source=source,
        primary_kpi=primary,
        baseline=baseline,
        variants=names,
        reps=reps,
        precision={
            "target": precision,
            "reps": reps,
            "stopped": stopped,
            "worst_relative_half_width": worst_relative_half_width(per_rep, primary),
        },
        per_rep=per_rep,
        summary=summarize(per_rep, ["variant", "region"]),
        differences=paired_differences(per_rep, baseline, kpis),
        ranking=ranking(per_rep, primary),
        timeseries=timeseries(frames),
        p_best={
            k: probability_best(per_rep, k).to_dict()
            for k in kpis
            if KPI_BY_NAME[k].direction != "none"
        },
    )
