"""Tuning strategy parameters with Optuna across scenarios: :func:`tune` and its parts.

One module per concept: :mod:`.objectives` (KPI objectives, robust rules), :mod:`.tunefile`
(the tune-file schema), :mod:`.space` (the search space), :mod:`.inputs` and :mod:`.plan`
(the study's scenarios and what makes trials comparable), :mod:`.storage` (storages,
password redaction, study locks), :mod:`.liveness` (heartbeats, stale trials, retries),
:mod:`.trials` (the objective and the exact trial budget), :mod:`.outputs` (the result and
its files) and :mod:`.study` (the workflow).

Example::

    from experiments.tuning import tune

    result = tune(["scenarios/tiny.yaml"], trials=20, reps=2, tune_file="examples/tune.yaml")
    result.best_params, result.best_value, result.trials.head()
    result.write("results/tune")  # only when asked
"""

from __future__ import annotations

from experiments.tuning.inputs import ScenarioInput, load_inputs
from experiments.tuning.liveness import (
    DEFAULT_HEARTBEAT_S,
    DEFAULT_MAX_RETRY,
    GRACE_FACTOR,
    HEARTBEAT_ATTR,
    WORKER_ATTR,
    Heartbeat,
    check_liveness,
    fail_stale_trials,
    retry_callback,
    worker_id,
)
from experiments.tuning.objectives import (
    DEFAULT_OBJECTIVE,
    Objective,
    RobustRule,
    parse_objectives,
    parse_robust,
)
from experiments.tuning.outputs import TuneResult, TuneStore, collect_result
from experiments.tuning.plan import TunePlan
from experiments.tuning.space import SearchSpace, TunedKind, TunedParam, build_search_space
from experiments.tuning.storage import (
    IN_MEMORY,
    StorageInfo,
    StudyLock,
    open_storage,
    redact,
    storage_reason,
)
from experiments.tuning.study import JOINS_ATTR, SETUP_ATTR, make_plan, open_study, tune
from experiments.tuning.trials import (
    FINISHED_STATES,
    PRUNER_STARTUP_TRIALS,
    TrialRunner,
    count_trials,
    run_budget,
)
from experiments.tuning.tunefile import (
    TuneChoices,
    TuneFile,
    TuneKind,
    TuneRange,
    TuneStrategies,
    load_tune_file,
)

__all__ = [
    "DEFAULT_HEARTBEAT_S",
    "DEFAULT_MAX_RETRY",
    "DEFAULT_OBJECTIVE",
    "FINISHED_STATES",
    "GRACE_FACTOR",
    "HEARTBEAT_ATTR",
    "IN_MEMORY",
    "JOINS_ATTR",
    "PRUNER_STARTUP_TRIALS",
    "SETUP_ATTR",
    "WORKER_ATTR",
    "Heartbeat",
    "Objective",
    "RobustRule",
    "ScenarioInput",
    "SearchSpace",
    "StorageInfo",
    "StudyLock",
    "TrialRunner",
    "TuneChoices",
    "TuneFile",
    "TuneKind",
    "TunePlan",
    "TuneRange",
    "TuneResult",
    "TuneStore",
    "TuneStrategies",
    "TunedKind",
    "TunedParam",
    "build_search_space",
    "check_liveness",
    "collect_result",
    "count_trials",
    "fail_stale_trials",
    "load_inputs",
    "load_tune_file",
    "make_plan",
    "open_storage",
    "open_study",
    "parse_objectives",
    "parse_robust",
    "redact",
    "retry_callback",
    "run_budget",
    "storage_reason",
    "tune",
    "worker_id",
]
