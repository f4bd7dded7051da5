"""`explore`: entry options or strategy variants across sampled futures (deep uncertainty).

Every option runs on the same futures with the same seeds (common random numbers), through
the replication executors and the resumable result store. Optionally all options are first
screened at low fidelity (a population scale, fewer replications) and only the finalists
run at full fidelity, and OCBA spends full-fidelity runs where options are close.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from experiments.executors import Executor
from experiments.explore.analysis import discover, sensitivity_tables
from experiments.explore.designs import make_design
from experiments.explore.futures import (
    OUTCOME_KPIS,
    Fidelity,
    Runner,
    build_futures,
    option_builders,
)
from experiments.explore.result import COMMAND, ExploreResult
from experiments.explore.robust import ocba, robust_table
from experiments.explore.uncertainties import load_uncertainties
from experiments.files import file_sha256, read_yaml
from experiments.replications import ScenarioSource, executor_scope, scenario_source
from experiments.stats import better_sign
from sim.errors import UsageError
from sim.kpi_totals import kpi_detail_named
from sim.kpis import KPI_BY_NAME, kpi_named


def _source(uncertainties: str | Path, options: str | Path | None, scenario: Any) -> ScenarioSource:
    """The scenario the futures vary: the options file's, ``scenario``, or the file's own."""
    if options is not None:
        from experiments.entry import load_options

        _, base, path = load_options(options)
        return ScenarioSource(base, str(path), file_sha256(path))
    if scenario is not None:
        return scenario_source(scenario)
    named = read_yaml(uncertainties, "uncertainties file")
    if isinstance(named, Mapping) and isinstance(named.get("scenario"), str):
        return scenario_source((Path(uncertainties).parent / named["scenario"]).resolve())
    raise UsageError(
        "explore needs a scenario: give --options, --scenario, or `scenario:` in the "
        "uncertainties file"
    )


def planned_worker_bytes(
    uncertainties: str | Path, options: str | Path | None = None, scenario: Any = None
) -> int:
    """Planned memory of a worker that runs this exploration's largest future.

    The base scenario's run estimate (:func:`sim.validation.estimate_memory_bytes`) times,
    per uncertainty, the largest ratio the ends of its range give (at least 1): an upper
    bound when uncertainties that grow the market compound (population x entrants).
    Raises what :func:`explore` raises for a bad file.
    """
    from experiments.executors import worker_memory_bytes
    from experiments.explore.uncertainties import future_data
    from sim.validation import estimate_memory_bytes

    source = _source(uncertainties, options, scenario)
    parsed, _ = load_uncertainties(uncertainties, source.scenario)
    base = source.scenario.model_dump(mode="json")
    base_bytes = max(1, estimate_memory_bytes(base))
    factor = 1.0
    for spec in parsed.uncertainties:
        ends = [estimate_memory_bytes(future_data(base, [spec], [v])) for v in spec.ends()]
        factor *= max(1.0, max(ends, default=0) / base_bytes)
    return worker_memory_bytes(int(base_bytes * factor))


def _check(
    futures: int, reps: int, screen_scale: float | None, finalists: int, screen_futures: int | None
) -> None:
    if reps < 1:
        raise UsageError(f"--reps: at least 1 replication, got {reps}")
    if futures < 1:
        raise UsageError(f"--futures: the design needs at least 1 future, got {futures}")
    if screen_scale is not None and not 0 < screen_scale <= 1:
        raise UsageError(f"--screen-scale must be in (0, 1], got {screen_scale}")
    if finalists < 1:
        raise UsageError(f"--finalists: at least 1, got {finalists}")
    if screen_futures is not None and screen_futures < 1:
        raise UsageError(f"--screen-futures: at least 1, got {screen_futures}")


def explore(
    uncertainties: str | Path,
    *,
    options: str | Path | None = None,
    variants: str | Path | Mapping[str, Any] | None = None,
    scenario: Any = None,
    design: str = "lhs",
    futures: int = 64,
    reps: int = 1,
    kpi: str = "net_profit_base",
    criterion: str = "regret",
    seed: int | None = None,
    days: int | None = None,
    screen_scale: float | None = None,
    screen_reps: int = 1,
    screen_futures: int | None = None,
    finalists: int = 2,
    ocba_budget: int | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    kpi_detail: str = "totals",
) -> ExploreResult:
    """Evaluate options across sampled futures; rank them robustly; find where they fail.

    Args:
        uncertainties: the uncertainties YAML file (``examples/uncertainties.yaml``).
        options: an entry options file (its scenario is varied); or ``variants`` (a variants
            file or ``{name: {kind: {"name", "params"}}}``) with ``scenario`` (else the
            uncertainties file's ``scenario``); with neither, the scenario alone is explored.
        design: ``lhs``, ``sobol`` (``futures`` a power of 2; ``futures * (k + 2)`` futures
            for ``k`` uncertainties) or ``morris`` (``futures * (k + 1)``).
        reps: CRN replications per future and option at full fidelity.
        kpi: the outcome options are ranked on (horizon total, region ALL);
            ``criterion``: ``regret`` (minimax regret), ``mean`` or ``cvar``.
        seed: seeds the design and the model runs (default: the scenario's seed).
        days: override the horizon.
        screen_scale: run every option first at this population scale with ``screen_reps``
            replications, and only the best ``finalists`` at full fidelity.
        screen_futures: screen on the design's first ``screen_futures`` futures only (default:
            all). The finalists are chosen on the screening mean over futures, so a sample of
            futures picks them at a fraction of the cost (benchmarks/RESULTS.md, brief S).
        ocba_budget: full-fidelity runs to spend by OCBA over futures (default: every
            finalist on every future).
        executor, workers: where runs go (default: a local pool of ``workers`` processes).
        out: store replications there as they finish (a rerun resumes) and write the tables;
            otherwise nothing is written.
        kpi_detail: what each model run keeps: ``"totals"`` (default) its horizon totals
            only, all that explore reads (``out/runs`` then holds one row per region and
            ``ALL``), or ``"daily"`` its daily KPI table; the outcomes are the same to the bit.

    Raises:
        ScenarioError: a bad uncertainties, options or variants file (file and field path).
        UsageError: an invalid argument; StorageError: ``out`` is refused or in use.
    """
    from experiments.store import ResultStore

    _check(futures, reps, screen_scale, finalists, screen_futures)
    detail = kpi_detail_named(kpi_detail)
    if options is not None and variants is not None:
        raise UsageError("explore: give options (an entry options file) or variants, not both")
    primary = kpi_named(kpi, "--kpi").name
    sign = better_sign(primary) or 1.0
    source = _source(uncertainties, options, scenario)
    spec, base = load_uncertainties(uncertainties, source.scenario)
    builders = option_builders(base, options, variants)
    seed = base.seed if seed is None else seed
    sampled = make_design(spec, design, futures, seed)
    scenarios = build_futures(spec, sampled, base, str(uncertainties))
    kpis = tuple(dict.fromkeys((primary, *OUTCOME_KPIS)))
    design_meta = {
        "method": design,
        "n": futures,
        "seed": seed,
        "futures": len(sampled),
        "factors": sampled.names,
        "groups": [g.model_dump() for g in spec.groups],
    }
    meta = {
        "uncertainties_file": str(uncertainties),
        "uncertainties_sha256": file_sha256(uncertainties),
        "scenarios": [source.meta()],
        "options": list(builders),
        "design": design_meta,
    }
    with ResultStore.claim(out, COMMAND, meta, force=force) as store:
        with executor_scope(executor, workers) as ex:
            runner = Runner(scenarios, builders, kpis, seed, days, ex, store, detail)
            n_screen = len(sampled) if screen_futures is None else screen_futures
            n_screen = min(n_screen, len(sampled))
            screening, names, runs = _screen(runner, n_screen, screen_scale, screen_reps)
            names = names[:finalists] if screen_scale is not None else names
            full = Fidelity("full", 1.0, reps)
            runs.update(_run_full(runner, full, names, len(sampled), ocba_budget, sign, primary))
        runs["reps"] = reps
        outcomes = runner.outcomes(full)
        robust = robust_table(outcomes, primary, sign, criterion)
        sens, notes = sensitivity_tables(sampled, outcomes, primary, seed)
        found = discover(sampled.values, outcomes, primary, sign)
        all_outcomes = outcomes if screening is None else _stack(runner, screening, outcomes)
        result = ExploreResult(
            uncertainties_file=str(uncertainties),
            source=source,
            design=design_meta,
            kpi=primary,
            direction=KPI_BY_NAME[primary].direction,
            criterion=criterion,
            futures=sampled.values,
            outcomes=all_outcomes,
            screening=screening[1] if screening is not None else robust.iloc[0:0],
            robust=robust,
            sensitivity=sens,
            boxes=found.boxes,
            trajectories=found.trajectories,
            findings=found.findings,
            notes=notes + found.skipped,
            runs=runs,
        )
        if out is not None:
            result.write(out)
    return result


def _stack(runner: Runner, screening: tuple[Fidelity, Any], outcomes: Any) -> Any:
    import pandas as pd

    return pd.concat([runner.outcomes(screening[0]), outcomes], ignore_index=True)


def _screen(
    runner: Runner, n: int, scale: float | None, reps: int
) -> tuple[tuple[Fidelity, Any] | None, list[str], dict[str, Any]]:
    """Every option on every future at low fidelity; options in screening rank order."""
    names = list(runner.options)
    if scale is None:
        return None, names, {"screen_runs": 0}
    low = Fidelity("screen", scale, reps)
    runner.run(low, {o: list(range(n)) for o in names}, "explore screen")
    primary = runner.kpis[0]
    table = robust_table(runner.outcomes(low), primary, better_sign(primary) or 1.0, "mean")
    runs = {"screen_runs": n * len(names) * reps, "screen_scale": scale, "screen_reps": reps}
    return (low, table), list(table["option"]), runs


def _run_full(
    runner: Runner,
    full: Fidelity,
    names: list[str],
    n: int,
    budget: int | None,
    sign: float,
    primary: str,
) -> dict[str, Any]:
    """Full-fidelity runs: every finalist on every future, or by OCBA within ``budget``."""
    equal = n * len(names) * full.reps
    if budget is None:
        runner.run(full, {o: list(range(n)) for o in names}, "explore")
        return {"full_runs": equal, "equal_allocation_runs": equal, "finalists": names}

    def run(alloc: dict[str, int]) -> dict[str, np.ndarray]:
        runner.run(full, {o: list(range(k)) for o, k in alloc.items()}, "explore ocba")
        table = runner.outcomes(full)
        return {
            o: sign * table[table["option"] == o].sort_values("future")[primary].to_numpy()[:k]
            for o, k in alloc.items()
        }

    _, rounds = ocba(run, names, n, budget=max(budget // full.reps, len(names)))
    return {
        "full_runs": sum(rounds[-1].values()) * full.reps,
        "equal_allocation_runs": equal,
        "finalists": names,
        "ocba_rounds": rounds,
    }
