"""Objectives (a KPI and its better direction) and the robust rule that aggregates a trial.

The objective is the KPI's horizon total for region ``ALL``, aggregated over scenarios x
replications by the robust rule:

* ``mean``: the mean of all values;
* ``worst``: the worst per-scenario mean (in the KPI's direction);
* ``cvar:ALPHA``: the mean of the worst ``ALPHA`` share of the values (lower tail for a
  KPI to maximize, upper tail for one to minimize).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from experiments.stats import cvar
from sim.errors import UsageError
from sim.kpis import KPI_BY_NAME, kpi_named

DEFAULT_OBJECTIVE = "net_profit_base"


@dataclass(frozen=True)
class Objective:
    """A KPI total for region ALL and the direction that is better."""

    kpi: str
    direction: str  # "maximize" | "minimize"

    @property
    def sign(self) -> float:
        """+1 when larger is better, -1 otherwise."""
        return 1.0 if self.direction == "maximize" else -1.0


def _split_names(objectives: str | Sequence[str]) -> list[str]:
    """Two or more different KPI names from ``"a,b"`` or ``["a", "b"]``."""
    given = objectives.split(",") if isinstance(objectives, str) else list(objectives)
    names = [n.strip() for n in given if n.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise UsageError(
            f"--objectives: give at least two different KPIs separated by commas, "
            f"got {objectives!r}"
        )
    return names


def parse_objectives(
    objective: str | None, objectives: str | Sequence[str] | None = None
) -> list[Objective]:
    """``--objective KPI`` or ``--objectives KPI,KPI`` as a list of :class:`Objective`.

    Raises:
        UsageError: naming the flag, for both given, fewer than two ``objectives``, an unknown
            KPI or a KPI without a better direction.
    """
    if objectives is not None:
        if objective is not None:
            raise UsageError("give --objective or --objectives, not both")
        flag, names = "--objectives", _split_names(objectives)
    else:
        flag, names = "--objective", [objective or DEFAULT_OBJECTIVE]
    out = []
    for name in names:
        kpi = kpi_named(name, flag)
        if kpi.direction == "none":
            valid = sorted(k for k, v in KPI_BY_NAME.items() if v.direction != "none")
            raise UsageError(
                f"{flag}: KPI {name!r} has no better direction, so it cannot be optimized; "
                f"valid: {valid}"
            )
        out.append(Objective(name, kpi.direction))
    return out


@dataclass(frozen=True)
class RobustRule:
    """How one trial's scenario x replication values become one number."""

    kind: str  # "mean" | "worst" | "cvar"
    alpha: float | None = None

    def __str__(self) -> str:
        return f"cvar:{self.alpha:g}" if self.kind == "cvar" else self.kind

    def aggregate(self, per_scenario: Sequence[np.ndarray], sign: float) -> float:
        """Aggregate replication values (one array per scenario); ``sign`` +1 = maximize."""
        if self.kind == "mean":
            return float(np.mean(np.concatenate(per_scenario)))
        if self.kind == "worst":
            means = np.array([np.mean(v) for v in per_scenario])
            return float(means.min() if sign > 0 else means.max())
        x = np.concatenate(per_scenario).astype(float)
        return float(sign * cvar(sign * x, float(self.alpha)))  # type: ignore[arg-type]


def parse_robust(text: str | RobustRule) -> RobustRule:
    """``mean``, ``worst`` or ``cvar:ALPHA`` (0 < ALPHA <= 1); a :class:`RobustRule` passes.

    Raises:
        UsageError: for anything else (names ``--robust``).
    """
    if isinstance(text, RobustRule):
        return text
    text = text.strip()
    if text in ("mean", "worst"):
        return RobustRule(text)
    if text.startswith("cvar:"):
        try:
            alpha = float(text[5:])
        except ValueError:
            alpha = float("nan")
        if 0 < alpha <= 1:
            return RobustRule("cvar", alpha)
    raise UsageError(
        "--robust: expected mean, worst or cvar:ALPHA with 0 < ALPHA <= 1 (e.g. cvar:0.2), "
        f"got {text!r}"
    )
