"""Running trials: the objective (scenarios x CRN replications) and the exact trial budget.

Each trial runs every scenario x ``reps`` replications on common random numbers and stores
them at once (variant ``trial-<number>``; a retried trial reuses its original's number), so
a killed process loses no finished replication. Single-objective studies report the running
robust value after each scenario (``step = scenario index``) so the pruner can cut bad trials
before their remaining scenarios. Per-scenario means are stored as trial user attributes
``"<kpi>[<scenario>]"``. Parameter sets that a strategy refuses as a whole (e.g. a ``low``
above a ``high``) are pruned, with the reason in the user attribute ``infeasible``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from experiments.executors import Executor
from experiments.replications import ReplicationTask, run_replications, with_strategies
from experiments.stats import replication_totals
from experiments.store import ResultStore
from experiments.tuning.inputs import ScenarioInput
from experiments.tuning.liveness import WORKER_ATTR, Heartbeat, beat, fail_stale_trials, worker_id
from experiments.tuning.objectives import Objective, RobustRule
from experiments.tuning.space import SearchSpace
from experiments.tuning.storage import StorageInfo

PRUNER_STARTUP_TRIALS = 5
FINISHED_STATES = ("COMPLETE", "PRUNED")

logger = logging.getLogger(__name__)


def count_trials(study: Any, *states: str) -> int:
    """How many trials of the study are in one of ``states`` (names of ``TrialState``)."""
    from optuna.trial import TrialState

    wanted = tuple(TrialState[s] for s in states)
    return len(study.get_trials(deepcopy=False, states=wanted))


class TrialRunner:
    """The objective: every scenario x ``reps`` CRN replications of one trial's strategies."""

    def __init__(
        self,
        inputs: Sequence[ScenarioInput],
        objectives: Sequence[Objective],
        robust: RobustRule,
        reps: int,
        space: SearchSpace,
        executor: Executor,
        store: ResultStore | None,
    ):
        self.inputs = inputs
        self.objectives = objectives
        self.robust = robust
        self.reps = reps
        self.space = space
        self.executor = executor
        self.store = store

    def _batches(self, study: Any) -> list[list[ScenarioInput]]:
        """Scenario by scenario when pruning may cut the trial, else all in one batch."""
        if (
            len(self.objectives) > 1
            or len(self.inputs) == 1
            or count_trials(study, "COMPLETE") < PRUNER_STARTUP_TRIALS
        ):
            return [list(self.inputs)]
        return [[s] for s in self.inputs]

    def _run_batch(
        self, trial: Any, batch: list[ScenarioInput], strategies: dict[str, Any], variant: str
    ) -> dict[int, Any]:
        """Every replication of ``batch``: the per-replication totals of region ALL by scenario."""
        tasks = [
            ReplicationTask(
                with_strategies(s.scenario, strategies),
                s.index,
                s.sha256,
                variant,
                k,
                s.seed,
                s.days,
            )
            for s in batch
            for k in range(self.reps)
        ]
        by_key = run_replications(tasks, self.executor, self.store, desc=f"trial {trial.number}")
        out = {}
        for s in batch:
            frames = {(t.rep,): by_key[t.key] for t in tasks if t.scenario_index == s.index}
            per_rep = replication_totals(frames, ("rep",))
            out[s.index] = per_rep[per_rep["region"] == "ALL"]
        return out

    def _strategies(self, trial: Any) -> dict[str, Any]:
        """The trial's strategies block; an infeasible one prunes the trial."""
        import optuna

        strategies = self.space.strategies(self.space.suggest(trial))
        trial.set_user_attr("strategies", strategies)
        refused = self.space.problems(strategies, [s.scenario for s in self.inputs])
        if refused:
            trial.set_user_attr("infeasible", "; ".join(refused))
            raise optuna.TrialPruned("; ".join(refused))
        return strategies

    def __call__(self, trial: Any) -> float | list[float]:
        import optuna

        strategies = self._strategies(trial)
        # a trial retried after its process died inherits the user attributes of the original
        # (RetryHeartbeatStaleTrialCallback), so it reuses the original's stored replications
        variant = trial.user_attrs.get("variant") or f"trial-{trial.number}"
        trial.set_user_attr("variant", variant)
        per_obj: dict[str, list[np.ndarray]] = {o.kpi: [] for o in self.objectives}
        single = len(self.objectives) == 1
        last = len(self.inputs) - 1
        for batch in self._batches(trial.study):
            all_rows = self._run_batch(trial, batch, strategies, variant)
            for s in batch:
                for o in self.objectives:
                    x = all_rows[s.index][o.kpi].to_numpy(dtype=float)
                    per_obj[o.kpi].append(x)
                    trial.set_user_attr(f"{o.kpi}[{s.label}]", float(np.mean(x)))
                if single:
                    o = self.objectives[0]
                    trial.report(self.robust.aggregate(per_obj[o.kpi], o.sign), step=s.index)
                    if s.index < last and len(batch) == 1 and trial.should_prune():
                        raise optuna.TrialPruned(f"pruned after scenario {s.label}")
        result = [self.robust.aggregate(per_obj[o.kpi], o.sign) for o in self.objectives]
        return result[0] if single else result


class _Progress:
    """A trial progress bar on a terminal (silent otherwise), as a study callback."""

    def __init__(self, total: int, enabled: bool):
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total, desc="tune", unit="trial", disable=not (enabled and sys.stderr.isatty())
        )

    def __call__(self, study: Any, trial: Any) -> None:
        self.bar.update(1)
        if len(study.directions) == 1:
            with contextlib.suppress(ValueError):  # no completed trial yet
                self.bar.set_postfix(best=f"{study.best_value:,.6g}", refresh=False)

    def close(self) -> None:
        self.bar.close()


def _ask(study: Any, info: StorageInfo) -> Any:
    """A new trial (a waiting one first: retries, the baseline), claimed by this process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "heartbeat is supposed to be used with optimize"
        trial = study.ask()
    info.storage.set_trial_system_attr(trial._trial_id, WORKER_ATTR, worker_id())
    if info.heartbeat is not None:
        beat(info, trial._trial_id)
    return trial


def _run_trial(study: Any, trial: Any, objective: Callable[[Any], Any], info: StorageInfo) -> Any:
    """Evaluate one asked trial with heartbeats and tell the study; the finished trial, or
    ``None`` when another process had already failed it as stale (its retry counts)."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    state, value, error = None, None, None
    with Heartbeat(info, trial._trial_id):
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except (Exception, KeyboardInterrupt) as exc:
            state, error = TrialState.FAIL, exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            frozen = study.tell(trial, value, state=state)
    except UpdateFinishedTrialError:
        logger.warning(
            "trial %s was failed by another process (no heartbeat for %s s) and is retried "
            "there; this result is dropped",
            trial.number,
            info.grace,
        )
        frozen = None
    if error is not None:
        raise error
    return frozen


def _next_trial(study: Any, info: StorageInfo, total: int) -> tuple[Any, int, int]:
    """Under the lock: fail stale trials, count, and ask for a trial while below ``total``.

    Returns (the new trial or None, finished trials, running trials of live processes).
    """
    from optuna.trial import TrialState

    finished_states = tuple(TrialState[s] for s in FINISHED_STATES)
    with info.lock.hold(study.study_name):
        retried = fail_stale_trials(study, info)
        trials = study.get_trials(deepcopy=False)
        finished = sum(t.state in finished_states for t in trials)
        running = sum(
            t.state == TrialState.RUNNING and t.system_attrs.get(WORKER_ATTR) is not None
            for t in trials
        )
        trial = None
        if finished < total and finished + running < total:
            trial = _ask(study, info)
    if retried:
        logger.warning(
            "trial(s) %s lost their process (no heartbeat for %s s): failed and queued again "
            "with the same parameters",
            retried,
            info.grace,
        )
    return trial, finished, running


def run_budget(
    study: Any,
    objective: Callable[[Any], Any],
    total: int,
    info: StorageInfo,
    progress: bool = False,
) -> int:
    """Run trials until the study holds exactly ``total`` finished (COMPLETE + PRUNED) trials.

    Several processes (on several machines) may run this on one study. Under the storage's
    :class:`~experiments.tuning.storage.StudyLock` each process first fails stale trials
    (their retries are enqueued with the same parameters), then counts finished trials plus
    RUNNING trials claimed by a live process (one with heartbeats) and asks for a new trial
    only when that sum is below ``total``; the new trial is RUNNING and claimed before the
    lock is released, so the next process counts it. The budget is therefore never
    overshot. When the sum reaches ``total`` but trials are still running elsewhere, the
    process waits (checking for stale trials) instead of leaving, so the trial of a process
    killed near the end is still retried; it returns once ``total`` trials are finished.
    ``progress`` shows a progress bar on a terminal. Returns the number of trials this
    process evaluated.
    """
    import time

    poll = max(0.2, min(2.0, (info.heartbeat or 2) / 2))
    bar = _Progress(max(0, total - count_trials(study, *FINISHED_STATES)), progress)
    ran, said = 0, False
    try:
        while True:
            trial, finished, running = _next_trial(study, info, total)
            if finished >= total:
                break
            if trial is None:
                if not said:
                    logger.warning(
                        "%s of %s trials finished and %s running elsewhere; waiting for them",
                        finished,
                        total,
                        running,
                    )
                    said = True
                time.sleep(poll)
                continue
            frozen = _run_trial(study, trial, objective, info)
            ran += 1
            if frozen is not None:
                bar(study, frozen)
    finally:
        bar.close()
    return ran
