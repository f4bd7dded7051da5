"""Decisions under deep uncertainty: options across sampled futures (``marketsim explore``).

``uncertainties`` (the file), ``designs`` (SALib samples), ``futures`` (runs on CRN),
``sensitivity`` (Sobol, Morris), ``prim`` (scenario discovery), ``robust`` (regret, CVaR,
P(best), OCBA), ``workflow`` (:func:`explore`) and ``result`` (:class:`ExploreResult`).
"""

from __future__ import annotations

from experiments.explore.result import ExploreResult
from experiments.explore.workflow import explore

__all__ = ["ExploreResult", "explore"]
