"""The tuning workflow: :func:`tune` runs (or resumes) an Optuna study and returns its result.

Storage and budget
    The study is loaded if it exists, so rerunning the same call resumes it, and several
    processes (on several machines) given the same ``storage`` and ``study_name`` share it.
    ``trials`` is the study's *total* of finished (COMPLETE + PRUNED) trials, and it is
    exact (see :func:`~experiments.tuning.trials.run_budget`). A study set up for different
    scenarios, objectives, robust rule, reps or search space is refused rather than mixed.
    A new study starts with the scenario's own strategy parameters (trial 0, user attribute
    ``baseline``) so the best is never worse in sample.

Reproducibility
    The TPE sampler (multivariate in Optuna 5) is seeded from
    ``SeedSequence([seed, trials already in the study])`` where ``seed`` is ``seed`` or the
    first scenario's seed, for the first process that joins a study. Every later process
    (counted under the lock in the study user attribute ``marketsim_processes``) adds its
    join number ``j``: ``SeedSequence([seed, trials, j])``, so processes starting together on
    an empty study draw different random start-up trials. Only a single process on a study
    is reproducible trial by trial (with several, which process asks when depends on
    timing); each trial's value always is (common random numbers).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from experiments.executors import Executor, make_executor, scenario_worker_bytes
from experiments.outfolder import owned_folder
from experiments.tuning.inputs import load_inputs
from experiments.tuning.liveness import (
    DEFAULT_HEARTBEAT_S,
    DEFAULT_MAX_RETRY,
    check_liveness,
    retry_callback,
    worker_id,
)
from experiments.tuning.objectives import RobustRule, parse_objectives, parse_robust
from experiments.tuning.outputs import TuneResult, TuneStore, collect_result
from experiments.tuning.plan import TunePlan
from experiments.tuning.space import build_search_space
from experiments.tuning.storage import StorageInfo, open_storage, storage_reason
from experiments.tuning.trials import (
    FINISHED_STATES,
    PRUNER_STARTUP_TRIALS,
    TrialRunner,
    count_trials,
    run_budget,
)
from experiments.tuning.tunefile import TuneFile, load_tune_file
from sim.errors import StorageError, UsageError
from sim.scenario import Scenario

SETUP_ATTR = "marketsim_setup"  # study user attr: the TunePlan.setup() it was made for
JOINS_ATTR = "marketsim_processes"  # study user attr: processes that joined the study so far


def _create_or_load(
    info: StorageInfo, name: str, plan: TunePlan, baseline: Mapping[str, Any] | None
) -> tuple[Any, int, Any, int]:
    """Under the storage lock: create or load the study; when it was set up like ``plan``,
    count this process in, name its metrics and enqueue the baseline trial in a new study.

    Returns (study, trials it held, the setup it was made for, processes joined before).
    """
    import optuna

    directions = [o.direction for o in plan.objectives]
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=0)
        if not plan.multi
        else optuna.pruners.NopPruner()
    )
    setup = plan.setup()
    with info.lock.hold(name):
        study = optuna.create_study(
            storage=info.storage,
            study_name=name,
            directions=directions,
            load_if_exists=True,
            pruner=pruner,
        )
        n_existing = len(study.get_trials(deepcopy=False))
        user_attrs = study.user_attrs
        previous = user_attrs.get(SETUP_ATTR)
        if previous is None and n_existing == 0:
            study.set_user_attr(SETUP_ATTR, setup)
            previous = setup
        joined = int(user_attrs.get(JOINS_ATTR, 0))
        if previous == setup and [d.name.lower() for d in study.directions] == directions:
            study.set_user_attr(JOINS_ATTR, joined + 1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names(plan.metric_names)
            if n_existing == 0 and baseline is not None:
                # trial 0 = the first scenario's own parameters
                study.enqueue_trial(
                    dict(baseline), user_attrs={"baseline": True}, skip_if_exists=True
                )
    return study, n_existing, previous, joined


def _check_same_setup(study: Any, info: StorageInfo, plan: TunePlan, previous: Any) -> None:
    """Refuse a study made for other directions or another setup (incomparable trials)."""
    name = study.study_name
    existing = [d.name.lower() for d in study.directions]
    directions = [o.direction for o in plan.objectives]
    if existing != directions:
        raise StorageError(
            f"--study: study {name!r} in {info.shown} optimizes {existing}, this command "
            f"{directions}; choose another --study (or --out)"
        )
    setup = plan.setup()
    if previous != setup:
        differ = (
            sorted(k for k in setup if (previous or {}).get(k) != setup[k])
            if isinstance(previous, dict)
            else ["(not made by marketsim tune)"]
        )
        raise StorageError(
            f"--study: study {name!r} in {info.shown} was set up differently "
            f"({', '.join(differ)}); its trials are not comparable with this command's: "
            "choose another --study (or --out)"
        )


def open_study(
    info: StorageInfo,
    name: str,
    plan: TunePlan,
    seed: int,
    baseline: Mapping[str, Any] | None = None,
) -> Any:
    """Create or load the study (under the storage lock, so processes starting together
    create it once), check it was set up like ``plan``, count this process in, enqueue
    the baseline trial in a new study, and seed the sampler.

    Raises:
        StorageError: the study cannot be used (storage failure, other setup).
    """
    import optuna

    try:
        study, n_existing, previous, joined = _create_or_load(info, name, plan, baseline)
    except Exception as exc:
        raise StorageError(
            f"--storage: cannot use study {name!r} in {info.shown}: {storage_reason(exc)}"
        ) from None
    _check_same_setup(study, info, plan, previous)
    # The first process of a study is seeded [seed, trials in the study] (reproducible); a
    # process joining later adds its join number, so processes starting together on an
    # empty study do not draw the same random start-up trials.
    entropy = [seed, n_existing] if joined == 0 else [seed, n_existing, joined]
    sampler_seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
    study.sampler = optuna.samplers.TPESampler(seed=sampler_seed)
    return study


def make_plan(
    scenarios: Sequence[str | Path | Scenario],
    *,
    objective: str | None = None,
    objectives: str | Sequence[str] | None = None,
    robust: str | RobustRule = "mean",
    reps: int = 3,
    days: int | None = None,
    seed: int | None = None,
    tune_file: str | Path | TuneFile | None = None,
) -> TunePlan:
    """Check the arguments and load the scenarios and tune file (see :func:`tune`)."""
    parsed = parse_objectives(objective, objectives)
    rule = parse_robust(robust)
    if reps < 1:
        raise UsageError(f"--reps: must be at least 1, got {reps}")
    inputs = load_inputs(scenarios, seed, days)
    if isinstance(tune_file, str | Path):
        tune, source = load_tune_file(tune_file), str(tune_file)
    else:
        tune, source = tune_file, "tune file"
    space = build_search_space([s.scenario for s in inputs], tune, source)
    return TunePlan(tuple(inputs), tuple(parsed), rule, reps, space)


def _manifest(
    plan: TunePlan, name: str, info: StorageInfo, trials: int, live: tuple[int, int, int]
) -> dict[str, Any]:
    """What the replication store's manifest records about the study."""
    heartbeat, grace, max_retry = live
    return {
        "scenarios": [s.meta() for s in plan.inputs],
        "study": name,
        "storage": info.shown,
        "objectives": plan.objectives_meta(),
        "robust": str(plan.robust),
        "reps": plan.reps,
        "trials": trials,
        "search_space": plan.space.describe(),
        "liveness": {
            "heartbeat_s": heartbeat,
            "grace_s": grace,
            "max_retry": max_retry,
            "worker": worker_id(),
        },
    }


def tune(
    scenarios: Sequence[str | Path | Scenario],
    *,
    trials: int,
    objective: str | None = None,
    objectives: str | Sequence[str] | None = None,
    robust: str | RobustRule = "mean",
    reps: int = 3,
    days: int | None = None,
    seed: int | None = None,
    tune_file: str | Path | TuneFile | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    executor: str | Executor = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    heartbeat: int = DEFAULT_HEARTBEAT_S,
    grace: int | None = None,
    max_retry: int = DEFAULT_MAX_RETRY,
    progress: bool = False,
    force: bool = False,
) -> TuneResult:
    """Tune the strategies' parameters with Optuna across scenarios; run or resume a study.

    Each trial runs every scenario x ``reps`` replications on common random numbers and
    aggregates the objective KPI's horizon total for region ``ALL`` by the ``robust`` rule.
    Argument mistakes name the matching ``marketsim tune`` flag (``--objective`` ...).

    Args:
        scenarios: scenario files or loaded :class:`~sim.scenario.Scenario` objects.
        trials: the study's total of finished (complete + pruned) trials; a rerun resumes.
        objective: the KPI to optimize (default ``net_profit_base``).
        objectives: two or more KPIs (``"a,b"`` or a list): a multi-objective study with a
            Pareto front (directions from ``sim.kpis``; no pruning). Not with ``objective``.
        robust: ``"mean"``, ``"worst"`` or ``"cvar:ALPHA"`` over scenarios x replications.
        reps: CRN replications per scenario and trial.
        days: horizon override (default each scenario's ``horizon_days``).
        seed: overrides the scenarios' seeds (CRN seeds and the sampler's seed).
        tune_file: a tune file (path or :class:`~experiments.tuning.tunefile.TuneFile`)
            naming the strategies and ranges to search; default every tunable parameter of
            the first scenario's strategies.
        storage: an Optuna storage URL, or ``journal:PATH``; default ``sqlite:///OUT/study.db``
            with ``out``, else an in-memory study.
        study_name: default ``tune-<first scenario name>``.
        executor: ``"local"`` (process pool), ``"dask"``, or an executor object (not closed).
        workers: processes of a named executor (default all cores).
        scheduler: a running Dask scheduler (with ``executor="dask"``).
        out: output folder: replications (``runs/``, ``manifest.json``, for resuming), the
            default storage and the result files. Without it nothing is written. It must be
            a new folder or hold an earlier ``tune`` (else refused before any work; ``force``
            replaces it); one command at a time writes it (a lock file).
        heartbeat: seconds between heartbeats of a running trial.
        grace: seconds without heartbeat after which a trial is failed and retried (default
            3 heartbeats).
        max_retry: retries of a trial whose process died.
        progress: show a trial progress bar on a terminal.

    Returns:
        The study's :class:`~experiments.tuning.outputs.TuneResult`.

    Raises:
        UsageError: an invalid argument (names its flag).
        ScenarioError: an invalid scenario or tune file.
        StorageError: the storage or study cannot be used.
    """
    if trials < 1:
        raise UsageError(f"--trials: must be at least 1, got {trials}")
    plan = make_plan(
        scenarios,
        objective=objective,
        objectives=objectives,
        robust=robust,
        reps=reps,
        days=days,
        seed=seed,
        tune_file=tune_file,
    )
    folder = None if out is None else Path(out)
    name = study_name or f"tune-{plan.inputs[0].scenario.name}"
    live = check_liveness(heartbeat, grace, max_retry)
    with owned_folder(folder, "tune", force=force):
        info = open_storage(
            storage,
            folder,
            heartbeat_interval=live[0],
            grace_period=live[1],
            heartbeat_stale_trial_callback=retry_callback(live[2]),
        )
        try:
            study, finished, store = _run_study(
                info, name, plan, trials, live, executor, workers, scheduler, folder, progress
            )
        finally:
            info.lock.close()
        result = collect_result(study, plan, info, trials, finished, folder)
        if store is not None:
            result.write(store.out)
            store.record_outputs()
    return result


def _run_study(
    info: StorageInfo,
    name: str,
    plan: TunePlan,
    trials: int,
    live: tuple[int, int, int],
    executor: str | Executor,
    workers: int | None,
    scheduler: str | None,
    folder: Path | None,
    progress: bool,
) -> tuple[Any, int, TuneStore | None]:
    """Run trials up to ``trials`` finished; (study, finished before, replication store)."""
    baseline = plan.space.baseline(plan.inputs[0].scenario)
    complete = len(baseline) == len(plan.space.params)
    study = open_study(info, name, plan, plan.inputs[0].seed, baseline if complete else None)
    pool = (
        make_executor(
            executor,
            workers,
            scheduler=scheduler,
            memory_per_worker=scenario_worker_bytes(i.scenario for i in plan.inputs),
        )
        if isinstance(executor, str)
        else contextlib.nullcontext(executor)
    )
    store = None
    if folder is not None:
        store = TuneStore.open(folder, "tune", _manifest(plan, name, info, trials, live))
    finished = count_trials(study, *FINISHED_STATES)
    with pool as running:  # stop its workers (or cluster) once the trials are done
        if finished < trials:
            runner = TrialRunner(
                plan.inputs, plan.objectives, plan.robust, plan.reps, plan.space, running, store
            )
            run_budget(study, runner, trials, info, progress)
    return study, finished, store
