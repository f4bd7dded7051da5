"""A what-if run: baseline vs variant on paired (CRN) replications, with progress and cancel.

Only the library API runs the model: :func:`marketsim.compare` when the variant changes
strategies only (then the numbers are exactly ``compare``'s), and :func:`marketsim.replicate`
of both worlds on the same seeds when it changes the world too (replication k of both uses
``SeedSequence([seed, 0, k])``, so the differences stay paired).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from experiments.compare import Comparison, compare
from experiments.executors import Executor, make_executor, scenario_worker_bytes
from experiments.replicate import replicate
from experiments.replications import with_strategies
from experiments.report.decision import Verdict, verdict, waterfall
from experiments.stats import paired_differences
from sim.errors import UsageError
from sim.scenario import Scenario

BASELINE, VARIANT = "baseline", "variant"
# the paired differences the app shows, primary KPI first
MAIN_KPIS = ("net_profit_base", "revenue_base", "units", "market_share", "active_customers")


class Cancelled(UsageError):
    """The user cancelled the run."""


class ProgressExecutor:
    """An executor that reports each finished replication and stops when cancelled."""

    def __init__(
        self,
        inner: Executor,
        on_progress: Callable[[int, int], None],
        cancel: threading.Event,
        total: int,
    ) -> None:
        self.inner = inner
        self.workers = inner.workers
        self.on_progress = on_progress
        self.cancel = cancel
        self.total = total
        self.done = 0

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """The inner executor's results, counted; raises :class:`Cancelled` when asked."""
        if self.cancel.is_set():
            raise Cancelled("cancelled before the first replication")
        for pair in self.inner.map_unordered(fn, tasks):
            self.done += 1
            self.on_progress(self.done, self.total)
            yield pair
            if self.cancel.is_set():
                raise Cancelled(f"cancelled after {self.done} of {self.total} replications")

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> ProgressExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class WhatIf:
    """The inputs of one run."""

    base: Scenario
    variant_world: Scenario
    baseline: Mapping[str, Any]
    variant: Mapping[str, Any]
    reps: int
    days: int
    seed: int
    kpi: str = "net_profit_base"


@dataclass(frozen=True)
class WhatIfResult:
    """What the page shows: verdict, paired differences, time series, waterfalls."""

    inputs: WhatIf
    per_rep: pd.DataFrame
    timeseries: pd.DataFrame
    verdict: Verdict
    differences: pd.DataFrame
    comparison: Comparison | None

    def waterfalls(self, variant: str = VARIANT) -> dict[str, list[tuple[str, float]]]:
        """Mean P&L steps per region (and ALL) of one variant."""
        rows = self.per_rep[self.per_rep["variant"] == variant]
        means = rows.groupby("region", sort=False).mean(numeric_only=True)
        return {str(r): waterfall(means.loc[r].to_dict()) for r in means.index}


def run_whatif(
    job: WhatIf,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    cancel: threading.Event | None = None,
    workers: int = 1,
) -> WhatIfResult:
    """Run the baseline and the variant on ``job.reps`` paired replications.

    Raises:
        Cancelled: ``cancel`` was set; MarketsimError: a refused input.
    """
    cancel = cancel or threading.Event()
    total = 2 * job.reps
    memory = scenario_worker_bytes([job.base, job.variant_world])
    pool = make_executor("local", workers, memory_per_worker=memory)
    with ProgressExecutor(pool, on_progress, cancel, total) as ex:
        if job.variant_world == job.base:
            variants = {BASELINE: dict(job.baseline), VARIANT: dict(job.variant)}
            cmp = compare(
                job.base,
                variants,
                baseline=BASELINE,
                kpi=job.kpi,
                reps=job.reps,
                seed=job.seed,
                days=job.days,
                executor=ex,
            )
            per_rep, ts = cmp.per_rep, cmp.timeseries
        else:
            cmp = None
            per_rep, ts = _replicate_both(job, ex)
    kpis = [job.kpi, *(k for k in MAIN_KPIS if k != job.kpi)]
    currency = job.base.currency
    return WhatIfResult(
        job,
        per_rep,
        ts,
        verdict(per_rep, VARIANT, BASELINE, job.kpi, job.days, currency),
        paired_differences(per_rep, BASELINE, kpis),
        cmp,
    )


def _replicate_both(job: WhatIf, ex: Executor) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both worlds replicated on the same seeds; tables tagged with their variant."""
    per_rep, ts = [], []
    for name, world, strategies in (
        (BASELINE, job.base, job.baseline),
        (VARIANT, job.variant_world, job.variant),
    ):
        reps = replicate(
            with_strategies(world, strategies),
            job.reps,
            seed=job.seed,
            days=job.days,
            executor=ex,
        )
        per_rep.append(reps.per_rep.assign(variant=name))
        ts.append(reps.timeseries.assign(variant=name))
    return pd.concat(per_rep, ignore_index=True), pd.concat(ts, ignore_index=True)
