"""Calibration of scenario parameters from data: BG/NBD repeat purchasing and logit demand.

The workflows are :func:`calibrate_transactions` and :func:`calibrate_demand`: each reads a
CSV (or takes a DataFrame), returns a result object and writes nothing until its ``write``.
"""

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
from experiments.calibration.demand import DemandCalibration, calibrate_demand
from experiments.calibration.inputs import CalibrationInputError
from experiments.calibration.logit_demand import LogitFit, estimate_logit
from experiments.calibration.logit_demand import (
    to_scenario_fragment as logit_to_scenario_fragment,
)
from experiments.calibration.transactions import TransactionsCalibration, calibrate_transactions

__all__ = [
    "PERIOD_DAYS",
    "BgNbdFit",
    "BgNbdParams",
    "CalibrationInputError",
    "DemandCalibration",
    "HoldoutResult",
    "LogitFit",
    "TransactionsCalibration",
    "bgnbd_to_scenario_fragment",
    "calibrate_demand",
    "calibrate_transactions",
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
