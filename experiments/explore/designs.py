"""Designs of futures from SALib: Latin hypercube, Sobol (Saltelli) and Morris.

SALib samples the unit hypercube, one independent factor per uncertainty; correlated
groups are then joined by their Gaussian copula and each column is mapped through its
uncertainty's inverse CDF. Sensitivity indices therefore refer to the independent factors
(for a correlated group, the member's own share of the joint draw).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from experiments.explore.uncertainties import UncertaintiesFile
from sim.errors import UsageError

DESIGNS = ("lhs", "sobol", "morris")
EDGE = 1e-12  # unit draws are kept inside (0, 1) before a normal score is taken
MORRIS_LEVELS = 4


@dataclass(frozen=True)
class Design:
    """A sampled set of futures.

    Attributes:
        method: ``lhs``, ``sobol`` or ``morris``; ``n``: the base sample size asked for
            (Sobol gives ``n * (k + 2)`` futures, Morris ``n * (k + 1)``); ``seed``.
        problem: the SALib problem (factor names, unit bounds).
        unit: the SALib sample in the unit hypercube (futures x factors, before the copula).
        values: one row per future, one column per uncertainty (the values applied).
    """

    method: str
    n: int
    seed: int
    problem: dict[str, Any]
    unit: np.ndarray
    values: pd.DataFrame

    @property
    def names(self) -> list[str]:
        """Factor names in file order."""
        return list(self.problem["names"])

    def __len__(self) -> int:
        return len(self.values)


def problem_of(names: list[str]) -> dict[str, Any]:
    """A SALib problem over the unit hypercube."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def unit_sample(problem: dict[str, Any], method: str, n: int, seed: int) -> np.ndarray:
    """The SALib sample of ``method`` in the unit hypercube.

    Raises:
        UsageError: an unknown method or a design with no futures.
    """
    if method not in DESIGNS:
        raise UsageError(f"--design: unknown design {method!r}; valid: {list(DESIGNS)}")
    if n < 1:
        raise UsageError(f"--futures: the design needs at least 1 future, got {n}")
    if method == "lhs":
        from SALib.sample import latin

        return latin.sample(problem, n, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        if n & (n - 1):
            raise UsageError(f"--futures: a Sobol design needs a power of 2, got {n}")
        return sobol.sample(problem, n, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)


def correlate(unit: np.ndarray, spec: UncertaintiesFile) -> np.ndarray:
    """Join each correlated group's columns by its Gaussian copula."""
    from scipy import stats

    out = unit.copy()
    names = spec.names
    for group in spec.groups:
        cols = [names.index(m) for m in group.members]
        z = stats.norm.ppf(np.clip(unit[:, cols], EDGE, 1.0 - EDGE))
        out[:, cols] = stats.norm.cdf(z @ group.cholesky().T)
    return out


def make_design(spec: UncertaintiesFile, method: str = "lhs", n: int = 64, seed: int = 0) -> Design:
    """Sample futures for the uncertainties of ``spec``."""
    problem = problem_of(spec.names)
    unit = unit_sample(problem, method, n, seed)
    joined = correlate(unit, spec)
    columns = {u.label: u.ppf(joined[:, j]) for j, u in enumerate(spec.uncertainties)}
    values = pd.DataFrame(columns).infer_objects()
    values.index.name = "future"
    return Design(method, n, seed, problem, unit, values)
