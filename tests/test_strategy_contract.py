"""Contract every registered strategy must meet (built-ins and installed plug-ins alike).

For each strategy in ``strategies.registry.all_strategies()`` (so a newly installed plug-in is
covered automatically): its decision has the right type and shape for every region of
realistic views (built by running the model), is deterministic for the same view and an
identically seeded generator, never mutates the view, and a fresh scenario runs 60 days with
it. Also the parameter declarations (defaults within bounds), registry errors with field
paths, and real entry-point discovery of a plug-in.
"""

from __future__ import annotations

import sys
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from experiments.files import load_scenario
from sim.contract import (
    LocalizationDecision,
    MarketView,
    PricingDecision,
    RetentionDecision,
    SelectionDecision,
)
from sim.errors import ScenarioError, StrategyError
from sim.scenario import Scenario
from sim.validation import parse_scenario
from strategies import registry, testing
from strategies.base import BASE_BY_KIND, Strategy
from strategies.registry import scenario_strategy_problems
from tests.helpers import new_model

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"
WORLD = ROOT / "tests" / "data" / "strategy_world.yaml"
EXAMPLE_PLUGIN = ROOT / "examples" / "marketsim-example-plugin"

ALL = [
    (kind, name, cls)
    for kind, by_name in registry.all_strategies().items()
    for name, cls in by_name.items()
]
IDS = [f"{kind}:{name}" for kind, name, _ in ALL]
DECISION_TYPE = {
    "pricing": PricingDecision,
    "selection": SelectionDecision,
    "retention": RetentionDecision,
    "localization": LocalizationDecision,
}


# --------------------------------------------------------------------------- views
@cache
def scenario(path: Path) -> Scenario:
    return load_scenario(path)


@cache
def views() -> dict[str, MarketView]:
    """Realistic views: day 0 and after 30 days, of tiny.yaml and the strategy world (one
    world run localized, with a local warehouse, so every view field is exercised)."""
    out = {}
    for key, path in (("tiny", TINY), ("world", WORLD)):
        for view in testing.views_of(scenario(path), seed=3):
            out[f"{key}@{view.day}"] = view
    invest = registry.create(
        "localization",
        "invest",
        {"local_warehouse": True, "local_service": True, "pay_instalments": True},
    )
    (localized,) = testing.views_of(
        scenario(WORLD), seed=4, days=(30,), overrides={"localization": invest}
    )
    out["world-localized@30"] = localized
    return out


def run_contract(kind: str, cls: type[Strategy]) -> None:
    """The per-view contract (``strategies.testing.check_decisions``) on the shared views."""
    assert cls.kind == kind
    testing.check_decisions(cls, views())


# --------------------------------------------------------------------------- contract
@pytest.mark.parametrize(("kind", "name", "cls"), ALL, ids=IDS)
def test_decisions_valid_deterministic_and_view_untouched(
    kind: str, name: str, cls: type[Strategy]
) -> None:
    assert cls.kind == kind and cls.name == name
    assert issubclass(cls, BASE_BY_KIND[kind])
    run_contract(kind, cls)


@pytest.mark.parametrize(("kind", "name", "cls"), ALL, ids=IDS)
@pytest.mark.parametrize("path", [TINY, WORLD], ids=["tiny", "world"])
def test_fresh_scenario_runs_60_days(kind: str, name: str, cls: type[Strategy], path: Path) -> None:
    testing.check_runs(cls, scenario(path), days=60, seed=5)


def test_a_reused_instance_starts_each_run_afresh() -> None:
    """Stateful strategies reset when a new run starts (same result as a fresh instance)."""
    for _, _, cls in ALL:
        testing.check_fresh_each_run(cls, scenario(WORLD), days=36, seed=6)


# --------------------------------------------------------------------------- declarations
@pytest.mark.parametrize(("kind", "name", "cls"), ALL, ids=IDS)
def test_param_declarations(kind: str, name: str, cls: type[Strategy]) -> None:
    testing.check_declarations(cls)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(StrategyError) as err:
        registry.get("pricing", "no_such_pricing")
    for valid in registry.names("pricing"):
        assert valid in str(err.value)
    assert err.value.problems[0][0] == "name"
    with pytest.raises(StrategyError, match="valid kinds"):
        registry.names("marketing")
    with pytest.raises(ScenarioError) as serr:
        parse_scenario(
            _tiny_with({"selection": {"name": "best_guess"}}),
            "t.yaml",
            check_strategies=scenario_strategy_problems,
        )
    paths = [p.path for p in serr.value.problems]
    assert paths == ["strategies.selection.name"]
    assert "three_factor" in str(serr.value)


@pytest.mark.parametrize(
    ("kind", "name", "params", "path"),
    [
        ("pricing", "cost_plus", {"markupp": 0.3}, "params.markupp"),
        ("pricing", "cost_plus", {"markup": 99.0}, "params.markup"),
        ("pricing", "cost_plus", {"markup": "high"}, "params.markup"),
        ("pricing", "penetration", {"ramp_days": 1.5}, "params.ramp_days"),
        ("pricing", "dynamic", {"min_markup": 1.5, "max_markup": 1.0}, "params.min_markup"),
        ("selection", "three_factor", {"k": 0}, "params.k"),
        ("selection", "stop_loss", {"choice": "stop_loss"}, "params.choice"),
        ("selection", "stop_loss", {"inner_params": {"k": -1}}, "params.inner_params.k"),
        ("selection", "stop_loss", {"inner_params": {"kk": 3}}, "params.inner_params.kk"),
        ("retention", "rfm_tiers", {"care_threshold": 90.0}, "params.coupon_threshold"),
        ("retention", "win_back", {"after_days": 0}, "params.after_days"),
        ("localization", "invest", {"pay_cod": "yes"}, "params.pay_cod"),
        (
            "localization",
            "invest",
            {"per_region": {"BR": {"payment_methods": ["card", "cheque"]}}},
            "params.per_region.BR.payment_methods[1]",
        ),
        (
            "localization",
            "invest",
            {"per_region": {"BR": {"warehouse": True}}},
            "params.per_region.BR.warehouse",
        ),
    ],
)
def test_bad_parameters_name_the_field(
    kind: str, name: str, params: dict[str, Any], path: str
) -> None:
    with pytest.raises(StrategyError) as err:
        registry.create(kind, name, params)
    assert path in [p for p, _ in err.value.problems], err.value.problems
    # the scenario schema reports the same problem under the strategy's path
    with pytest.raises(ScenarioError) as serr:
        parse_scenario(
            _tiny_with({kind: {"name": name, "params": params}}),
            "t.yaml",
            check_strategies=scenario_strategy_problems,
        )
    assert f"strategies.{kind}.{path}" in [p.path for p in serr.value.problems]


def test_scenario_cross_checks_of_invest() -> None:
    """`check` uses the scenario: a local warehouse needs a local lane; regions must exist."""
    bad = {
        "name": "invest",
        "params": {
            "regions": ["XA", "ZZ"],
            "per_region": {"XA": {"local_warehouse": True}, "YY": {"local_service": True}},
        },
    }
    with pytest.raises(ScenarioError) as err:
        parse_scenario(
            _tiny_with({"localization": bad}), "t.yaml", check_strategies=scenario_strategy_problems
        )
    got = {p.path: p.message for p in err.value.problems}
    base = "strategies.localization.params"
    assert set(got) == {
        f"{base}.regions[1]",
        f"{base}.per_region.XA.local_warehouse",
        f"{base}.per_region.YY",
    }
    assert "no local warehouse" in got[f"{base}.per_region.XA.local_warehouse"]
    ok = {"name": "invest", "params": {"per_region": {"BR": {"local_warehouse": True}}}}
    data = _world_data()
    data["strategies"]["localization"] = ok
    parse_scenario(data, "world.yaml", check_strategies=scenario_strategy_problems)


def test_mapping_param_describes_and_is_not_tunable() -> None:
    invest = registry.get("localization", "invest")
    per_region = next(p for p in invest.params if p.name == "per_region")
    assert not per_region.tunable
    assert "local_warehouse: bool" in per_region.describe()
    assert [p.name for p in invest.params if p.tunable][:3] == [
        "human_translation",
        "pay_card",
        "pay_ewallet",
    ]


# --------------------------------------------------------------------------- plug-ins
def test_entry_point_plugin_is_discovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dist-info directory on sys.path with a `marketsim.strategies` entry point (the
    example plug-in's) is found by importlib.metadata, registered and meets the contract."""
    dist = tmp_path / "marketsim_example_plugin-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: marketsim-example-plugin\nVersion: 0.1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [marketsim.strategies]
            my_pricing = marketsim_example_plugin:MyPricing
            """
        )
    )
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN / "src"))
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = {kind: dict(by_name) for kind, by_name in registry._REGISTRY.items()}
    monkeypatch.setattr(registry, "_REGISTRY", saved)
    monkeypatch.setattr(registry, "_loaded", False)
    try:
        assert "my_pricing" in registry.names("pricing")
        cls = registry.get("pricing", "my_pricing")
        assert cls.__module__ == "marketsim_example_plugin"
        run_contract("pricing", cls)
        strategy = registry.create("pricing", "my_pricing", {"markup": 0.8, "ending": 0.49})
        model = new_model(scenario(TINY), seed=1, days=60, strategies={"pricing": strategy})
        model.run(days=15)
        cents = np.round(model.firm.price_local % 1.0, 6)
        assert np.all(cents == 0.49), cents
        with pytest.raises(StrategyError, match="my_pricing"):
            registry.get("pricing", "x")
    finally:
        sys.modules.pop("marketsim_example_plugin", None)
    # the registry is restored afterwards by monkeypatch (checked in the next test)


def test_registry_restored_after_plugin_test() -> None:
    now = [
        (k, n, c) for k, by_name in registry.all_strategies().items() for n, c in by_name.items()
    ]
    assert now == ALL


# --------------------------------------------------------------------------- helpers
def _tiny_with(strategies: dict[str, Any]) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    data["strategies"].update(strategies)
    return data


def _world_data() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(WORLD.read_text(encoding="utf-8"))
