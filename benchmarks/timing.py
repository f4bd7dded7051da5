"""Per-phase CPU timing of a model run: `PhaseTimer` and the instrumented `TimedMarketModel`."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sim.model import MarketModel
from sim.rng import SeedLike
from sim.scenario import Scenario


class PhaseTimer:
    """Exclusive time per phase: a wrapped call's time minus its wrapped callees' time.

    The default clock is the process CPU time (the benchmark machine may be shared).
    """

    def __init__(self, clock: Callable[[], float] = time.process_time) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[float]] = []

    def wrap(self, phase: str, fn: Callable[..., Any], inherit: bool = False) -> Callable:
        """``fn`` timed as ``phase``; with ``inherit``, a nested call counts for its caller."""
        stack, seconds, calls, perf = self._stack, self.seconds, self.calls, self.clock

        def timed(*args: Any, **kwargs: Any) -> Any:
            if inherit and len(stack) > 1:
                return fn(*args, **kwargs)
            frame = [0.0]
            stack.append(frame)
            t0 = perf()
            try:
                return fn(*args, **kwargs)
            finally:
                total = perf() - t0
                stack.pop()
                seconds[phase] += total - frame[0]
                calls[phase] += 1
                if stack:
                    stack[-1][0] += total

        return timed


# (phase key, issue phase group, what it covers)
PHASES: list[tuple[str, str, str]] = [
    ("awareness", "awareness", "RegionalConsumers.diffuse_awareness (Bass step)"),
    ("calendar", "occasions", "run_occasions loop, _due, _schedule (occasion calendar)"),
    ("offers", "occasions", "Observer.offers (offer arrays per category)"),
    ("utilities", "choice", "_occasion_round: utilities, bookkeeping, dropout"),
    ("gumbel", "choice", "sim.keyed.gumbel_noise (Gumbel-max taste shocks)"),
    ("fulfil", "firm", "fulfilment callback: stock, ledger, order book, RFM"),
    ("reorder", "firm", "Logistics.reorder"),
    ("deliveries", "firm", "Deliveries.process (returns, satisfaction)"),
    ("dispatch", "logistics", "Logistics.dispatch (consolidation, SimPy processes)"),
    ("simpy", "logistics", "env.run (SimPy events of the day)"),
    ("collect", "logistics", "Logistics.collect_shipments"),
    ("strategies", "strategies", "Decisions.run (views, decisions, apply)"),
    ("competitors", "competitors", "CompetitorAgent.reprice (incl. best responses)"),
    ("record", "KPI collection", "DailyKpis.record (daily KPI rows)"),
    ("kpi_frame", "KPI collection", "MarketModel.kpi_frame (table at the end of the run)"),
    ("other", "other", "step remainder: FX, running costs, retention expiry, arrivals"),
]


class TimedMarketModel(MarketModel):
    """:class:`MarketModel` with every phase of the day wrapped by a :class:`PhaseTimer`."""

    def __init__(self, scenario: Scenario, seed: SeedLike | None = None, **kwargs: Any):
        super().__init__(scenario, seed=seed, **kwargs)
        t = self.timer = PhaseTimer()
        self.step = t.wrap("other", self.step)
        for owner, name, phase in (
            (self.decisions, "run", "strategies"),
            (self.logistics, "dispatch", "dispatch"),
            (self.logistics, "reorder", "reorder"),
            (self.logistics, "collect_shipments", "collect"),
            (self.deliveries, "process", "deliveries"),
            (self.kpis, "record", "record"),
            (self, "kpi_frame", "kpi_frame"),
        ):
            setattr(owner, name, t.wrap(phase, getattr(owner, name)))
        self.observer.offers = t.wrap("offers", self.observer.offers, inherit=True)
        fulfiller = self.fulfilment.fulfiller
        self.fulfilment.fulfiller = lambda r, d: t.wrap("fulfil", fulfiller(r, d))
        self.env.run = t.wrap("simpy", self.env.run)
        for comp in self.competitors:
            comp.reprice = t.wrap("competitors", comp.reprice)
        for pop in self.consumers:
            pop.diffuse_awareness = t.wrap("awareness", pop.diffuse_awareness)
            pop.run_occasions = t.wrap("calendar", pop.run_occasions)
            for name in ("_due", "_schedule"):
                if hasattr(pop, name):
                    setattr(pop, name, t.wrap("calendar", getattr(pop, name)))
            if hasattr(pop, "_occasion_round"):
                pop._occasion_round = t.wrap("utilities", pop._occasion_round)

    @contextmanager
    def sampling_timed(self) -> Iterator[None]:
        """Time ``sim.keyed.gumbel_noise`` (the taste shocks of the Gumbel-max draw, a module
        global the occasion rounds call) while the block runs."""
        import sim.keyed as keyed_module

        original = keyed_module.gumbel_noise
        keyed_module.gumbel_noise = self.timer.wrap("gumbel", original)
        try:
            yield
        finally:
            keyed_module.gumbel_noise = original
