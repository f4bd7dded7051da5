"""BG/NBD repeat purchasing (Fader, Hardie & Lee 2005): summaries, fit, predictions, holdout.

One module per job, re-exported here: ``_params`` (parameters, time units, scenario block),
``_summary`` (transaction log -> x, t_x, T), ``_likelihood`` (likelihood and fit),
``_holdout`` and ``_plot``. The parameters and predictions (P(alive), E[Y(t) | x, t_x, T],
E[X(t)]) live in ``sim.bgnbd``, their one home, which the simulator's customer equity uses too.
"""

from __future__ import annotations

from experiments.calibration.bgnbd._holdout import HoldoutResult, holdout_check
from experiments.calibration.bgnbd._likelihood import (
    BgNbdFit,
    fit_bgnbd,
    log_likelihood,
    log_likelihood_gradient,
)
from experiments.calibration.bgnbd._params import PERIOD_DAYS, period_days, to_scenario_fragment
from experiments.calibration.bgnbd._plot import plot_cumulative
from experiments.calibration.bgnbd._summary import purchase_occasions, summarize_transactions
from sim.bgnbd import (
    BgNbdParams,
    Method,
    conditional_expected_purchases,
    expected_repeat_purchases,
    probability_alive,
)

__all__ = [
    "PERIOD_DAYS",
    "BgNbdFit",
    "BgNbdParams",
    "HoldoutResult",
    "Method",
    "conditional_expected_purchases",
    "expected_repeat_purchases",
    "fit_bgnbd",
    "holdout_check",
    "log_likelihood",
    "log_likelihood_gradient",
    "period_days",
    "plot_cumulative",
    "probability_alive",
    "purchase_occasions",
    "summarize_transactions",
    "to_scenario_fragment",
]
