"""Scenario knobs a variant or a tuning trial may set besides strategies: the marketing budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.scenario import Scenario

#: key of the marketing budget multiplier in a strategies block (variants, tuning trials)
MARKETING_KEY = "marketing_budget_multiplier"
#: largest multiplier a variant or a tune file may ask for (10x the scenario's budgets)
MAX_BUDGET_MULTIPLIER = 10.0
#: keys of a strategies block that are not strategy kinds
NON_STRATEGY_KEYS = ("decision_interval_days", MARKETING_KEY)


def apply_knobs(scenario: Scenario, block: Mapping[str, Any]) -> Scenario:
    """``scenario`` with the knobs of a strategies ``block`` applied (today: every marketing
    budget, the firm's and each paid channel's, times ``block[MARKETING_KEY]``)."""
    factor = block.get(MARKETING_KEY)
    if factor is None or float(factor) == 1.0:
        return scenario
    from experiments.acquisition import with_marketing  # avoids an import cycle via check

    return with_marketing(scenario, float(factor))
