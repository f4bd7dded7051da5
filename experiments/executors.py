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
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import Executor as FuturesExecutor
from typing import Any, Protocol

from sim.errors import UsageError

EXECUTORS = ("local", "dask")
DEFAULT_RETRIES = 2
WAIT_FOR_WORKERS_S = 120  # a running scheduler may get its first worker a little later


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


def windowed_map(
    pool: FuturesExecutor, fn: Callable[[Any], Any], tasks: list[Any], window: int
) -> Iterator[tuple[Any, Any]]:
    """Submit ``tasks`` to ``pool`` keeping at most ``window`` in flight; yield as they finish."""
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


class LocalExecutor:
    """A process pool on this machine (``workers=1`` runs in-process).

    The pool is created on first use and kept for later calls (a tuning study runs many
    small batches); workers come from a fork server that has imported the model once.
    """

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: FuturesExecutor | None = None

    def _get_pool(self) -> FuturesExecutor:
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
            if "forkserver" in methods:
                ctx.set_forkserver_preload(["experiments.replications", "sim.model"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Run in-process for one worker or one task, else on the pool."""
        tasks = list(tasks)
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield task, fn(task)
            return
        yield from windowed_map(self._get_pool(), fn, tasks, 2 * self.workers)


class DaskExecutor:
    """The :class:`Executor` protocol on a ``distributed.Client`` (see the module docstring).

    Args:
        workers: worker processes of the local cluster (default all cores); ignored with
            ``scheduler`` (the running cluster's workers are used).
        scheduler: address of a running scheduler (``tcp://HOST:PORT``); ``None`` starts a
            local cluster on 127.0.0.1.
        retries: times a task that raised is resubmitted.

    Raises:
        UsageError: when Dask is not installed or the scheduler cannot be reached.
    """

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        retries: int = DEFAULT_RETRIES,
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
            n = max(1, workers or os.cpu_count() or 1)
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
    name: str = "local", workers: int | None = None, scheduler: str | None = None
) -> Executor:
    """Executor by name: ``local`` (process pool) or ``dask`` (``scheduler`` optional).

    A scheduler address with the local executor is refused rather than ignored.

    Raises:
        UsageError: an unknown name, or a scheduler without ``dask``.
    """
    if name == "local":
        if scheduler:
            raise UsageError("--scheduler: a Dask scheduler needs --executor dask")
        return LocalExecutor(workers)
    if name == "dask":
        return DaskExecutor(workers=workers, scheduler=scheduler)
    raise UsageError(f"--executor: unknown executor {name!r}; valid: {list(EXECUTORS)}")
