"""Replications on a Dask cluster (``--executor dask [--scheduler tcp://HOST:PORT]``).

Without ``--scheduler`` a local cluster is started for the command (one single-threaded
worker process per ``--workers``, default all cores, listening on 127.0.0.1 only) and
stopped at its end. With ``--scheduler`` the command connects to a running scheduler and
uses whatever workers it has (``dask scheduler`` / ``dask worker``, see docs/scaling.md).

Every replication is one task whose key is derived from the replication's identity
(scenario hash, variant, replication) and its fingerprint (strategies, seed, horizon), so the
same work submitted twice maps to the same key. Workers only compute: results travel back
to the driver, which writes ``OUT`` itself, so no shared filesystem is needed. Replications
are pure functions of their task (common random numbers), so the tables are identical to a
local run whatever the number of workers or the order in which results arrive.

Killed workers
    When a worker dies (even with SIGKILL) the scheduler reschedules the tasks it held on
    the surviving workers; a task is given up only after it was on
    ``distributed.scheduler.allowed-failures`` (default 3) workers that died. A task that
    *raises* is retried ``retries`` times (default 2, for transient worker-side errors) before
    the error reaches the driver.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sim.errors import Problem, ScenarioError

DEFAULT_RETRIES = 2
WAIT_FOR_WORKERS_S = 120  # a running scheduler may get its first worker a little later


def _bad(flag: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(flag, "", message)])


def task_key(task: Any) -> str:
    """A deterministic Dask key: the task's store key plus its fingerprint (when it has them)."""
    key = getattr(task, "key", None)
    fingerprint = getattr(task, "fingerprint", None)
    if key is None or fingerprint is None:
        return f"marketsim-{abs(hash(repr(task))):x}"
    return f"marketsim-{key}-{fingerprint[:16]}"


class DaskExecutor:
    """The :class:`~experiments.runner.Executor` protocol on a ``distributed.Client``.

    Args:
        workers: worker processes of the local cluster (default all cores); ignored with
            ``scheduler`` (the running cluster's workers are used).
        scheduler: address of a running scheduler (``tcp://HOST:PORT``); ``None`` starts a
            local cluster on 127.0.0.1.
        retries: times a task that raised is resubmitted.

    Raises:
        ScenarioError: when Dask is not installed or the scheduler cannot be reached (exit 2).
    """

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        retries: int = DEFAULT_RETRIES,
        **_: Any,
    ):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise _bad(
                "--executor",
                "dask is not installed; install the extra: pip install 'marketsim[dask]'",
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
                raise _bad(
                    "--scheduler", f"cannot use the Dask scheduler {scheduler}: {exc}"
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
        """Submit every task; yield ``(task, result)`` in completion order."""
        from distributed import as_completed

        if self._client is None:
            raise RuntimeError("DaskExecutor is closed")
        tasks = list(tasks)
        if not tasks:
            return
        futures = {}
        for task in tasks:
            fut = self._client.submit(
                fn, task, key=task_key(task), pure=False, retries=self.retries
            )
            futures[fut] = task
        try:
            for fut in as_completed(list(futures), loop=self._client.loop):
                task = futures.pop(fut)
                result = fut.result()
                fut.release()
                yield task, result
        finally:
            if futures:  # stopped early (error, interrupt): drop the rest
                self._client.cancel(list(futures))

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
