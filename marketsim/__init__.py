"""marketsim: rehearse a cross-border market entry in Python (the public API).

Every workflow is a function that returns a typed result (data frames plus metadata) and
writes nothing unless given ``out``::

    import marketsim as ms

    scenario = ms.load_scenario("scenarios/default.yaml")
    run = ms.simulate(scenario, days=90)                   # one run
    reps = ms.replicate(scenario, reps=8, days=90)         # CRN replications with CIs
    cmp = ms.compare(scenario, "examples/variants.yaml", reps=8, days=90)
    cmp.ranking                                           # a pandas DataFrame

The implementation lives in the ``sim`` (model), ``strategies`` and ``experiments``
packages; this package only re-exports their public names, importing each on first use
(``import marketsim`` stays fast).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS = {
    # scenarios and input files
    "Scenario": "sim.scenario",
    "load_scenario": "experiments.files",
    "load_variants": "experiments.files",
    # workflows and their results
    "simulate": "experiments.simulate",
    "RunResult": "experiments.simulate",
    "replicate": "experiments.replicate",
    "Replications": "experiments.replicate",
    "compare": "experiments.compare",
    "Comparison": "experiments.compare",
    "rank_entry_options": "experiments.entry",
    "EntryRanking": "experiments.entry",
    "explore": "experiments.explore",
    "ExploreResult": "experiments.explore",
    "tune": "experiments.tuning",
    "TuneResult": "experiments.tuning",
    "calibrate_transactions": "experiments.calibration",
    "TransactionsCalibration": "experiments.calibration",
    "calibrate_demand": "experiments.calibration",
    "DemandCalibration": "experiments.calibration",
    "conditional_expected_purchases": "experiments.calibration",
    "expected_repeat_purchases": "experiments.calibration",
    "write_report": "experiments.report",
    "check": "experiments.check",
    "CheckResult": "experiments.check",
    # where replications run
    "LocalExecutor": "experiments.executors",
    "DaskExecutor": "experiments.executors",
    "make_executor": "experiments.executors",
    # the model itself (for Mesa users: batch_run, custom loops)
    "MarketModel": "sim.model",
    # errors: every mistake a user can make is a MarketsimError
    "MarketsimError": "sim.errors",
    "ScenarioError": "sim.errors",
    "StrategyError": "sim.errors",
    "UsageError": "sim.errors",
    "StorageError": "sim.errors",
    "DataError": "sim.errors",
}

__all__ = [
    "CheckResult",
    "Comparison",
    "DaskExecutor",
    "DataError",
    "DemandCalibration",
    "EntryRanking",
    "ExploreResult",
    "LocalExecutor",
    "MarketModel",
    "MarketsimError",
    "Replications",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "StorageError",
    "StrategyError",
    "TransactionsCalibration",
    "TuneResult",
    "UsageError",
    "calibrate_demand",
    "calibrate_transactions",
    "check",
    "compare",
    "conditional_expected_purchases",
    "expected_repeat_purchases",
    "explore",
    "load_scenario",
    "load_variants",
    "make_executor",
    "rank_entry_options",
    "replicate",
    "simulate",
    "tune",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'marketsim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from experiments.calibration import (
        DemandCalibration,
        TransactionsCalibration,
        calibrate_demand,
        calibrate_transactions,
        conditional_expected_purchases,
        expected_repeat_purchases,
    )
    from experiments.check import CheckResult, check
    from experiments.compare import Comparison, compare
    from experiments.entry import EntryRanking, rank_entry_options
    from experiments.executors import DaskExecutor, LocalExecutor, make_executor
    from experiments.explore import ExploreResult, explore
    from experiments.files import load_scenario, load_variants
    from experiments.replicate import Replications, replicate
    from experiments.report import write_report
    from experiments.simulate import RunResult, simulate
    from experiments.tuning import TuneResult, tune
    from sim.errors import (
        DataError,
        MarketsimError,
        ScenarioError,
        StorageError,
        StrategyError,
        UsageError,
    )
    from sim.model import MarketModel
    from sim.scenario import Scenario
