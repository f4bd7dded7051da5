"""Executors: where replications run (a local process pool, or a Dask cluster).

Every executor has ``workers`` and ``map_unordered(fn, tasks)`` yielding ``(task, result)``
pairs as they finish. Both run on a :class:`concurrent.futures.Executor` (a process pool, or
Dask's ``Client.get_executor()``) with at most two tasks per worker in flight. Results are
pure functions of their task (common random numbers), so tables do not depend on the
executor, the worker count or the completion order.

Dask (``--executor dask [--scheduler tcp://HOST:PORT]``): without a scheduler a local
cluster is started for the command (one single-threaded worker process per worker,
listening on 127.0.0.1 only) and stopped at its end; with one, the command uses whatever
workers the running cluster has (docs/scaling.md). Workers only compute: results travel back
to the driver, which writes ``OUT`` itself, so no shared filesystem is needed. When a worker
dies (even with SIGKILL) the scheduler reschedules its tasks on the survivors (up to
``distributed.scheduler.allowed-failures`` deaths per task); a task that *raises* is retried
``retries`` times before the error reaches the driver.

Bounded resources: a local pool or local Dask cluster never has more workers than
:func:`worker_limit` (the usable cores, and the memory budget of
``sim.validation.memory_limit_bytes`` divided by the planned bytes per worker:
:func:`worker_memory_bytes` of the largest scenario the command runs, or
:data:`WORKER_MEMORY_BYTES` when it does not know them); a larger request is lowered with one
logged warning. Local pool workers end within about a second
when the driver process dies, even by SIGKILL (:func:`die_with_parent`); when the driver
leaves a ``with`` block by an exception (Ctrl-C, SIGTERM in the CLI) its workers are
terminated rather than awaited. Dask's own worker processes already exit with their nanny.

Garbage between tasks: a model is a web of reference cycles (its components, agents and
SimPy processes point back at it), so when a task returns, reference counting frees none of
its arrays; Python's full collection, which would, runs rarely, and dead models piled up in
a long-lived worker (sea_entry's check: +0.4 GB RSS per task, 6.7 GB per worker after about
an hour). Every executor therefore runs each task through :func:`run_and_collect`, which
collects the garbage once the task has returned (about 0.06 s; benchmarks/RESULTS.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import Executor as FuturesExecutor
from typing import Any, Protocol

from sim.errors import UsageError

EXECUTORS = ("local", "dask")
DEFAULT_RETRIES = 2
WAIT_FOR_WORKERS_S = 120  # a running scheduler may get its first worker a little later
# Planned memory per worker process before its scenario is known: ~125 MiB RSS measured for
# a `compare` worker on scenarios/tiny.yaml (the model imported once by the fork server),
# doubled for headroom. Commands that know their scenarios plan more (worker_memory_bytes).
WORKER_MEMORY_BYTES = 256 * 2**20
# A worker's peak over sim.validation.estimate_memory_bytes (which counts the consumer
# arrays only): benchmarks/check_memory.py, peak minus the imports, 1.28x on sea_entry
# (0.75 GiB peak, estimate 449 MiB) and 1.32x on gulf_entry (0.35 GiB, 132 MiB); 1.5 for headroom.
RUN_MEMORY_FACTOR = 1.5
PARENT_POLL_S = 1.0  # without pidfd_open, how often a worker checks that its driver lives
EXIT_PARENT_GONE = 70  # a worker's exit status when its driver died
PR_SET_PDEATHSIG = 1  # prctl option, linux/prctl.h

log = logging.getLogger(__name__)


class Executor(Protocol):
    """Runs tasks and yields ``(task, result)`` pairs as they finish (any order).

    Executors hold worker processes or a cluster connection: ``close()`` them (or use them
    as context managers) when the work is done.
    """

    workers: int

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


def run_and_collect(fn: Callable[[Any], Any], task: Any) -> Any:
    """``fn(task)``, then a full garbage collection: the task's model, unreachable by now but
    held by its own reference cycles, is freed before the next task builds one."""
    try:
        return fn(task)
    finally:
        gc.collect()


def windowed_map(
    pool: FuturesExecutor, fn: Callable[[Any], Any], tasks: list[Any], window: int
) -> Iterator[tuple[Any, Any]]:
    """Submit ``tasks`` to ``pool`` keeping at most ``window`` in flight; yield as they finish.
    Each task runs through :func:`run_and_collect`."""
    fn = functools.partial(run_and_collect, fn)
    pending: dict[Future, Any] = {}
    queue = iter(tasks)
    for task in queue:
        pending[pool.submit(fn, task)] = task
        if len(pending) >= window:
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
        for fut in pending:  # stopped early (error, interrupt): drop the rest
            fut.cancel()


def worker_memory_bytes(run_estimate_bytes: int) -> int:
    """Planned bytes for a worker that runs models of ``run_estimate_bytes``
    (``sim.validation.estimate_memory_bytes`` of the largest scenario it will run)."""
    return WORKER_MEMORY_BYTES + int(RUN_MEMORY_FACTOR * max(0, run_estimate_bytes))


def scenario_worker_bytes(scenarios: Iterable[Any]) -> int:
    """:func:`worker_memory_bytes` of the largest of these validated scenarios."""
    from sim.validation import estimate_memory_bytes

    return worker_memory_bytes(
        max((estimate_memory_bytes(s.model_dump()) for s in scenarios), default=0)
    )


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def worker_limit(memory_per_worker: int = WORKER_MEMORY_BYTES) -> int:
    """Most worker processes this machine can hold: cores, then memory budget per worker."""
    return max(1, min(usable_cores(), _fit_in_memory(memory_per_worker)))


def capped_workers(requested: int | None, memory_per_worker: int = WORKER_MEMORY_BYTES) -> int:
    """``requested`` workers (default and at most :func:`worker_limit`); warns when lowered."""
    limit = worker_limit(memory_per_worker)
    if not requested:
        return limit
    if requested > limit:
        log.warning(
            "marketsim: %d workers requested, using %d (%d usable cores, %d fit the memory "
            "budget at %d MiB each)",
            requested,
            limit,
            usable_cores(),
            _fit_in_memory(memory_per_worker),
            memory_per_worker // 2**20,
        )
    return max(1, min(requested, limit))


def _fit_in_memory(memory_per_worker: int) -> int:
    """Workers of ``memory_per_worker`` bytes within ``sim.validation.memory_limit_bytes``."""
    from sim.validation import memory_limit_bytes

    return max(1, memory_limit_bytes() // max(1, memory_per_worker))


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: end this worker as soon as the driver ``parent_pid`` ends.

    On Linux the kernel also sends SIGTERM when the worker's direct parent (the fork server)
    dies (``PR_SET_PDEATHSIG``). A daemon thread waits on a pidfd of the driver (or, without
    ``os.pidfd_open``, checks it every :data:`PARENT_POLL_S`) and exits the worker with
    :data:`EXIT_PARENT_GONE` once it is gone, so no worker outlives a killed command.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # a libc without prctl
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    watcher = threading.Thread(
        target=_exit_when_gone, args=(parent_pid,), name="marketsim-parent-watch", daemon=True
    )
    watcher.start()


def _exit_when_gone(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(EXIT_PARENT_GONE)
    except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): poll instead
        while _alive(pid):
            time.sleep(PARENT_POLL_S)
    else:
        select.select([fd], [], [])  # readable once the process has ended
    os._exit(EXIT_PARENT_GONE)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True


class LocalExecutor:
    """A process pool on this machine (``workers=1`` runs in-process).

    The pool is created on first use and kept for later calls (a tuning study runs many
    small batches); workers come from a fork server that has imported the model once.

    Args:
        workers: worker processes (default, and at most, :func:`worker_limit`).
        memory_per_worker: planned bytes per worker for that limit.
    """

    def __init__(self, workers: int | None = None, memory_per_worker: int = WORKER_MEMORY_BYTES):
        self.workers = capped_workers(workers, memory_per_worker)
        self._pool: FuturesExecutor | None = None

    def _get_pool(self) -> FuturesExecutor:
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
            if "forkserver" in methods:
                ctx.set_forkserver_preload(["experiments.replications", "sim.model"])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=ctx,
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    def close(self, terminate: bool = False) -> None:
        """Stop the worker processes: let running tasks finish, or ``terminate`` them."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if terminate:  # no public API before Python 3.14 (terminate_workers)
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(terminate=exc_type is not None)

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Run in-process for one worker or one task, else on the pool (either way each task
        through :func:`run_and_collect`)."""
        tasks = list(tasks)
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield task, run_and_collect(fn, task)
            return
        yield from windowed_map(self._get_pool(), fn, tasks, 2 * self.workers)


class DaskExecutor:
    """The :class:`Executor` protocol on a ``distributed.Client`` (see the module docstring).

    Args:
        workers: worker processes of the local cluster (default, and at most,
            :func:`worker_limit`); ignored with ``scheduler`` (the running cluster's
            workers are used).
        scheduler: address of a running scheduler (``tcp://HOST:PORT``); ``None`` starts a
            local cluster on 127.0.0.1.
        retries: times a task that raised is resubmitted.
        memory_per_worker: planned bytes per local-cluster worker for that limit.

    Raises:
        UsageError: when Dask is not installed or the scheduler cannot be reached.
    """

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        retries: int = DEFAULT_RETRIES,
        memory_per_worker: int = WORKER_MEMORY_BYTES,
    ):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UsageError(
                "--executor dask: dask is not installed; install the extra: "
                "pip install 'marketsim[dask]'"
            ) from None
        self.retries = retries
        self.scheduler = scheduler
        self._cluster: Any = None
        self._client: Any = None
        if scheduler:
            try:
                # connect timeout: Dask's ``distributed.comm.timeouts.connect`` (default 30 s)
                self._client = Client(scheduler, set_as_default=False)
                self._client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
            except (OSError, TimeoutError, ValueError) as exc:
                self.close()
                raise UsageError(
                    f"--scheduler: cannot use the Dask scheduler {scheduler}: {exc}"
                ) from None
            self.workers = max(1, sum(self._client.nthreads().values()))
        else:
            n = capped_workers(workers, memory_per_worker)
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self._client = Client(self._cluster, set_as_default=False)
            self.workers = n

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (``None`` once closed)."""
        return self._client

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Submit the tasks through ``Client.get_executor()``; yield in completion order."""
        if self._client is None:
            raise RuntimeError("DaskExecutor is closed")
        pool = self._client.get_executor(pure=False, retries=self.retries)
        yield from windowed_map(pool, fn, list(tasks), 2 * self.workers)

    def close(self) -> None:
        """Disconnect; stop the local cluster when this executor started one."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(
    name: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    memory_per_worker: int = WORKER_MEMORY_BYTES,
) -> Executor:
    """Executor by name: ``local`` (process pool) or ``dask`` (``scheduler`` optional).

    A scheduler address with the local executor is refused rather than ignored. Local
    workers are capped by ``memory_per_worker`` (:func:`worker_memory_bytes` of the largest
    scenario the command runs); a running scheduler's workers are the cluster's own.

    Raises:
        UsageError: an unknown name, or a scheduler without ``dask``.
    """
    if name == "local":
        if scheduler:
            raise UsageError("--scheduler: a Dask scheduler needs --executor dask")
        return LocalExecutor(workers, memory_per_worker)
    if name == "dask":
        return DaskExecutor(
            workers=workers, scheduler=scheduler, memory_per_worker=memory_per_worker
        )
    raise UsageError(f"--executor: unknown executor {name!r}; valid: {list(EXECUTORS)}")
