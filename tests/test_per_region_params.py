"""Per-region strategy parameters: declaration, YAML paths, scenario checks, effect, contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import marketsim as ms
from sim.errors import StrategyError
from strategies import registry, testing
from strategies.params import Param, region_value

ROOT = Path(__file__).resolve().parent.parent
SEA = ROOT / "scenarios" / "sea_entry.yaml"
PER_REGION = [
    (kind, name, cls)
    for kind, by_name in registry.all_strategies().items()
    for name, cls in by_name.items()
    if any(p.per_region for p in cls.params)
]


def test_pricing_declares_per_region_levers() -> None:
    names = {(name, p.name) for _, name, cls in PER_REGION for p in cls.params if p.per_region}
    assert {("cost_plus", "markup"), ("competitive_index", "index")} <= names


@pytest.mark.parametrize(("kind", "name", "cls"), PER_REGION, ids=[n for _, n, _ in PER_REGION])
def test_contract_per_region(kind: str, name: str, cls: type) -> None:
    views = dict(list(testing.contract_views(testing.default_scenarios()).items())[:1])
    testing.check_per_region(cls, views)


def test_scalar_or_mapping_bounds_per_value() -> None:
    p = Param("index", "float", 0.95, low=0.5, high=1.5, per_region=True)
    assert p.validate(0.9) == 0.9
    assert p.validate({"ID": 0.9, "VN": 1}) == {"ID": 0.9, "VN": 1.0}
    with pytest.raises(ValueError, match=r"0.5 <= value <= 1.5") as exc:
        p.validate({"ID": 0.9, "VN": 2.0})
    assert exc.value.path == ".VN"  # type: ignore[attr-defined]
    assert "mapping region -> value" in p.describe()
    with pytest.raises(ValueError, match="per region"):
        Param("flag", "bool", False, per_region=True)
    values = {"index": {"ID": 0.8}}
    assert region_value(values, p, "ID") == 0.8
    assert region_value(values, p, "VN") == 0.95  # not named: the declared default
    assert region_value({"index": 1.1}, p, "VN") == 1.1


def test_scenario_paths_name_region_and_value(tmp_path: Path) -> None:
    scenario = ms.load_scenario(SEA)
    variants = tmp_path / "v.yaml"
    variants.write_text(
        "variants:\n  - name: a\n  - name: bad\n"
        "    pricing: {name: competitive_index, params: {index: {ID: 0.9, XX: 0.9}}}\n"
    )
    with pytest.raises(ms.MarketsimError) as exc:
        ms.compare(scenario, variants, reps=1, days=2, workers=1)
    assert (
        "variants[1].pricing.params.index.XX: unknown region; known: ['ID', 'VN', 'PH']"
        in "\n".join(exc.value.lines())
    )
    with pytest.raises(StrategyError) as exc2:
        registry.validate_choice("pricing", "cost_plus", {"markup": {"ID": -1}}, scenario)
    assert exc2.value.problems[0][0] == "params.markup.ID"


def test_a_region_value_moves_only_that_regions_prices() -> None:
    views = testing.contract_views([ms.load_scenario(SEA)])
    view = next(v for v in views.values() if v.day > 0)
    regions = sorted(view.regions)
    rng = np.random.default_rng
    base = registry.create("pricing", "competitive_index").decide(view, rng(1)).prices_local
    cls = registry.get("pricing", "competitive_index")
    moved = cls(index={regions[0]: 0.7}).decide(view, rng(1)).prices_local
    assert not np.allclose(base[regions[0]], moved[regions[0]])
    for rid in regions[1:]:
        assert np.array_equal(base[rid], moved[rid])
