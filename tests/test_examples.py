"""The shipped example files: valid against the default scenario and complete as claimed."""

from __future__ import annotations

from pathlib import Path

from experiments.files import load_scenario, load_variants
from strategies.registry import all_strategies

ROOT = Path(__file__).resolve().parents[1]


def test_levers_file_has_every_built_in_strategy_once() -> None:
    """examples/levers.yaml is the per-lever table's input: one variant per built-in strategy
    (besides the scenario's own), so a strategy added to `strategies/` must be added there."""
    scenario = load_scenario(ROOT / "scenarios/default.yaml")
    vfile = load_variants(ROOT / "examples/levers.yaml", scenario)
    own = scenario.strategies
    named: dict[str, set[str]] = {}
    for v in vfile.variants[1:]:
        for kind, choice in v.strategies().items():
            if kind != "decision_interval_days":
                named.setdefault(kind, set()).add(choice["name"])
    for kind, classes in all_strategies().items():
        built_in = {n for n, cls in classes.items() if cls.__module__.startswith("strategies.")}
        expected = built_in - {getattr(own, kind).name}
        assert expected <= named.get(kind, set()), (kind, expected - named.get(kind, set()))


def test_tune_marketing_file_searches_only_the_budget() -> None:
    from experiments.tuning.space import build_search_space
    from experiments.tuning.tunefile import load_tune_file

    scenario = load_scenario(ROOT / "scenarios/default.yaml")
    space = build_search_space([scenario], load_tune_file(ROOT / "examples/tune_marketing.yaml"))
    assert [p.key for p in space.params] == ["marketing.budget_multiplier"]
    assert space.baseline(scenario) == {"marketing.budget_multiplier": 1.0}
