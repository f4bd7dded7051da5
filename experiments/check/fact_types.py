"""The fact registry's types: a fact, what its measure sees and returns, and its range text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from experiments.check.runs import RunStats
from sim.scenario import Scenario

ALL_SCENARIOS = ("*",)


class NotMeasurable(Exception):
    """A measure cannot give a value for this scenario or run length (the reason)."""


@dataclass(frozen=True)
class FactContext:
    """What a measure sees: the (scaled) baseline scenario and every variant's runs."""

    scenario: Scenario
    runs: dict[str, list[RunStats]]
    days: int
    window_days: int

    def first(self, reps: int) -> FactContext:
        """The same context cut to the first ``reps`` replications of every variant (still
        paired: replication k of every variant uses the same seed)."""
        runs = {name: stats[:reps] for name, stats in self.runs.items()}
        return FactContext(self.scenario, runs, self.days, self.window_days)

    def paired(self, variant: str) -> list[tuple[RunStats, RunStats]]:
        """(baseline, variant) runs of each replication."""
        if variant not in self.runs:
            raise NotMeasurable(f"the {variant} variant does not apply to this scenario")
        return list(zip(self.runs["baseline"], self.runs[variant], strict=True))


@dataclass(frozen=True)
class Measurement:
    """Per-replication values (one value for a closed form) and what was measured."""

    values: np.ndarray
    note: str = ""
    closed_form: bool = False


Measure = Callable[[FactContext], Measurement]


@dataclass(frozen=True)
class Fact:
    """One stylized fact: the DOMAIN claim, its acceptance range and how it is measured."""

    id: str
    domain: str
    figure: str
    low: float | None
    high: float | None
    definition: str
    scenarios: tuple[str, ...] = ALL_SCENARIOS
    needs: tuple[str, ...] = ()
    measure: Measure | None = None
    missing: str = ""
    percent: bool = True
    extra: dict[str, str] = field(default_factory=dict)
    #: replications this fact needs for a CI narrow enough to judge (one replication's spread
    #: is wide); the full check runs at least this many of its variants unless --reps is given
    min_reps: int = 0
    #: the CI half-width this fact is judged at, as a share of its range's width (0: none).
    #: Without --reps, a CI wider than that after ``min_reps`` replications gets more, as many
    #: as the first stage's spread says it needs (Stein's two-stage rule), at most ``max_reps``
    precision: float = 0.0
    max_reps: int = 0

    def applies_to(self, scenario_name: str) -> bool:
        """Whether this fact is checked on a scenario of that name."""
        return self.scenarios == ALL_SCENARIOS or scenario_name in self.scenarios

    def range_text(self) -> str:
        """The acceptance range as printed (``-`` when none is stated)."""
        return format_range(self, self.low, self.high)


def format_range(fact: Fact, low: float | None, high: float | None) -> str:
    """A range in the fact's units (percent or plain), ``-`` when open."""
    if low is None or high is None:
        return "-"
    if fact.percent:
        return f"{low:.0%} to {high:.0%}"
    return f"{low:g} to {high:g}"
