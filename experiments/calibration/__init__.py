"""Calibration of scenario parameters from data: BG/NBD repeat purchasing and logit demand."""

from __future__ import annotations

from experiments.calibration.bgnbd import (
    PERIOD_DAYS,
    BgNbdFit,
    BgNbdParams,
    HoldoutResult,
    conditional_expected_purchases,
    expected_repeat_purchases,
    fit_bgnbd,
    holdout_check,
    log_likelihood,
    log_likelihood_gradient,
    plot_cumulative,
    probability_alive,
    summarize_transactions,
)
from experiments.calibration.bgnbd import to_scenario_fragment as bgnbd_to_scenario_fragment
from experiments.calibration.logit_demand import LogitFit, estimate_logit
from experiments.calibration.logit_demand import (
    to_scenario_fragment as logit_to_scenario_fragment,
)

__all__ = [
    "PERIOD_DAYS",
    "BgNbdFit",
    "BgNbdParams",
    "HoldoutResult",
    "LogitFit",
    "bgnbd_to_scenario_fragment",
    "conditional_expected_purchases",
    "estimate_logit",
    "expected_repeat_purchases",
    "fit_bgnbd",
    "holdout_check",
    "log_likelihood",
    "log_likelihood_gradient",
    "logit_to_scenario_fragment",
    "plot_cumulative",
    "probability_alive",
    "summarize_transactions",
]
