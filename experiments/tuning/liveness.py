"""Liveness of trials: heartbeats, failing the trials of dead processes, retrying them.

A running trial records a heartbeat every ``heartbeat`` seconds (RDB: Optuna's
``heartbeat_interval``, by the database clock; journal: marketsim's trial system attribute
``marketsim_heartbeat``, by the machines' clocks). A trial without heartbeat for ``grace``
seconds (default 3 heartbeats) belongs to a dead process: the next process to look fails it
and enqueues a retry with the same parameters and user attributes (Optuna's
``RetryHeartbeatStaleTrialCallback(max_retry=...)``: system attributes ``failed_trial`` and
``retry_history``), which the next free process runs. Each trial records its process as the
system attribute ``marketsim_worker`` (``host:pid``).
"""

from __future__ import annotations

import contextlib
import copy
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.errors import UsageError

if TYPE_CHECKING:
    from experiments.tuning.storage import StorageInfo

DEFAULT_HEARTBEAT_S = 10
GRACE_FACTOR = 3  # default grace period: this many heartbeat intervals
DEFAULT_MAX_RETRY = 3
WORKER_ATTR = "marketsim_worker"  # trial system attr: "host:pid" of the process running it
HEARTBEAT_ATTR = "marketsim_heartbeat"  # trial system attr (journal): last beat, epoch seconds


def check_liveness(
    heartbeat: int | None, grace: int | None, max_retry: int | None
) -> tuple[int, int, int]:
    """``heartbeat`` (0 or None: 10 s), ``grace`` (None: 3 heartbeats), ``max_retry`` (None: 3).

    Raises:
        UsageError: naming the flag (``--heartbeat``, ``--grace``, ``--max-retry``).
    """
    heartbeat = int(heartbeat or DEFAULT_HEARTBEAT_S)
    grace = GRACE_FACTOR * heartbeat if grace is None else int(grace)
    max_retry = DEFAULT_MAX_RETRY if max_retry is None else int(max_retry)
    if heartbeat < 1:
        raise UsageError(f"--heartbeat: must be at least 1 second, got {heartbeat}")
    if grace <= heartbeat:
        raise UsageError(
            f"--grace: must be longer than the heartbeat interval ({heartbeat} s), got {grace}; "
            f"a live trial would be taken for a dead one"
        )
    if max_retry < 0:
        raise UsageError(f"--max-retry: must be >= 0, got {max_retry}")
    return heartbeat, grace, max_retry


def retry_callback(max_retry: int | None) -> Callable:
    """Optuna's stale-trial retry callback (re-enqueues the trial with the same parameters)."""
    import optuna

    cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if cls is None:  # Optuna < 4.9
        cls = optuna.storages.RetryFailedTrialCallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental / deprecated-alias warnings
        return cls(max_retry=max_retry)


def worker_id() -> str:
    """This process as ``host:pid`` (the trial system attribute ``marketsim_worker``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _optuna_stale_trials(study: Any) -> list[int]:
    """Optuna's heartbeat check of an RDB storage (it runs the retry callback)."""
    import optuna
    from optuna.trial import TrialState

    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    after = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    return sorted({t.number for t in after} - before)


def _last_sign_of_life(t: Any, journal: bool, now: float) -> float | None:
    """When a RUNNING trial last showed its process alive (None: Optuna checks it)."""
    claimed = t.system_attrs.get(WORKER_ATTR) is not None
    if claimed and not journal:
        return None  # Optuna's heartbeat check
    if claimed:
        return float(t.system_attrs.get(HEARTBEAT_ATTR, 0.0))
    return t.datetime_start.timestamp() if t.datetime_start is not None else now


def fail_stale_trials(study: Any, info: StorageInfo) -> list[int]:
    """Fail the trials of dead processes and enqueue their retries (call under the lock).

    RDB storages: Optuna's heartbeat check (``fail_stale_trials``: no heartbeat for
    ``grace`` seconds, by the database clock), which runs the retry callback. Journal
    storages: the same rule on marketsim's ``marketsim_heartbeat`` attribute (wall clock;
    machines sharing a journal need synchronized clocks). Both: a RUNNING trial that no
    marketsim process claimed (its process died between creating and claiming it, or an older
    version made it) and that started more than ``grace`` seconds ago. Returns the numbers of
    the trials failed here.
    """
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    if info.heartbeat is None or info.grace is None:
        return []
    storage = info.storage
    failed = [] if info.journal else _optuna_stale_trials(study)
    now = time.time()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        last = _last_sign_of_life(t, info.journal, now)
        if last is None or now - last <= info.grace:
            continue
        trial_id = t._trial_id
        try:
            storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
        except UpdateFinishedTrialError:
            continue  # finished meanwhile
        failed.append(t.number)
        if info.stale_callback is not None:
            info.stale_callback(study, copy.deepcopy(storage.get_trial(trial_id)))
    return failed


def beat(info: StorageInfo, trial_id: int) -> None:
    """Record one heartbeat of a trial."""
    if info.journal:
        info.storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())
    else:
        info.storage.record_heartbeat(trial_id)


class Heartbeat:
    """A thread beating for one trial every ``info.heartbeat`` seconds while the trial runs."""

    def __init__(self, info: StorageInfo, trial_id: int):
        self.info, self.trial_id = info, trial_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="marketsim-heartbeat", daemon=True)

    def _run(self) -> None:
        assert self.info.heartbeat is not None
        while not self._stop.wait(self.info.heartbeat):
            with contextlib.suppress(Exception):  # a missed beat is retried at the next one
                beat(self.info, self.trial_id)

    def __enter__(self) -> Heartbeat:
        if self.info.heartbeat is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
