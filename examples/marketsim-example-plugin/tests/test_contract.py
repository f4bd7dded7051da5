"""The marketsim strategy contract suite, run on this plug-in's strategy."""

from __future__ import annotations

from marketsim_example_plugin import MyPricing

from strategies.testing import StrategyContract


class TestMyPricing(StrategyContract):
    """Declarations, decisions on realistic views, model runs and fresh state per run."""

    strategy_cls = MyPricing
