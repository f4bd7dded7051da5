"""The marketing budget as a knob: variants and `marketsim tune` can scale every budget."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import load_tiny

from experiments.cli.main import main
from experiments.files import load_scenario, load_variants
from experiments.replications import with_strategies
from sim.scenario import Strategies

ROOT = Path(__file__).resolve().parents[1]


def _budgets(scenario) -> list[float]:
    """Every monthly marketing amount of a scenario (firm budgets and channel budgets)."""
    out: list[float] = []
    for amount in scenario.firm.marketing_budget_monthly_base.values():
        out += list(amount) if isinstance(amount, list) else [amount]
    for region in scenario.regions:
        for ch in (region.acquisition.channels if region.acquisition else {}).values():
            amount = ch.budget_monthly_base
            out += list(amount) if isinstance(amount, list) else [amount]
    return out


def test_a_variant_scales_every_marketing_budget_and_only_them() -> None:
    base = load_scenario(ROOT / "scenarios/default.yaml")
    doubled = with_strategies(base, {"marketing_budget_multiplier": 2.0})
    assert sum(_budgets(base)) > 0
    assert _budgets(doubled) == pytest.approx([2 * x for x in _budgets(base)])
    assert doubled.strategies == base.strategies and doubled.regions[0].population == (
        base.regions[0].population
    )
    assert with_strategies(base, {"marketing_budget_multiplier": 1.0}) == base
    assert _budgets(with_strategies(base, {"marketing_budget_multiplier": 0.0})) == [0.0] * len(
        _budgets(base)
    )


def test_tune_searches_the_budget_and_writes_it_beside_the_strategies(tmp_path) -> None:
    data = load_tiny()
    data["regions"][0]["population"] = 2000
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(data))
    tune = tmp_path / "tune.yaml"
    tune.write_text(yaml.safe_dump({"marketing": {"budget_multiplier": {"low": 0, "high": 3}}}))
    out = tmp_path / "out"
    argv = ["tune", str(scenario), "--tune", str(tune), "--trials", "4", "--reps", "1"]
    assert main([*argv, "--days", "60", "--out", str(out)]) == 0
    trials = pd.read_csv(out / "trials.csv")
    assert trials.loc[trials["baseline"], "marketing.budget_multiplier"].tolist() == [1.0]
    assert trials["marketing.budget_multiplier"].between(0, 3).all()
    assert trials["marketing.budget_multiplier"].nunique() == 4
    doc = yaml.safe_load((out / "best_strategies.yaml").read_text())
    Strategies.model_validate(doc["strategies"])  # still pastes under `strategies:`
    best = trials.loc[trials["value"].idxmax(), "marketing.budget_multiplier"]
    assert doc["marketing_budget_multiplier"] == pytest.approx(best)
    # the best budget replays through a variants file (compare) with the same profit
    variants = tmp_path / "v.yaml"
    entry = {"name": "best", "marketing_budget_multiplier": doc["marketing_budget_multiplier"]}
    variants.write_text(yaml.safe_dump({"variants": [entry]}))
    load_variants(variants, load_scenario(scenario))
    cmp = tmp_path / "cmp"
    assert main(["compare", str(scenario), "--variants", str(variants), "--reps", "1",
                 "--days", "60", "--out", str(cmp)]) == 0  # fmt: skip
    reps = pd.read_csv(cmp / "replications.csv")
    profit = reps.loc[reps["region"] == "ALL", "net_profit_base"].iloc[0]
    assert profit == pytest.approx(trials["value"].max())


def test_a_budget_range_outside_the_bounds_is_refused_with_its_path(tmp_path, capsys) -> None:
    tune = tmp_path / "tune.yaml"
    tune.write_text(yaml.safe_dump({"marketing": {"budget_multiplier": {"low": 0, "high": 20}}}))
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(yaml.safe_dump(load_tiny()))
    out = str(tmp_path / "o")
    assert main(["tune", str(tiny), "--tune", str(tune), "--trials", "2", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "tune.yaml: marketing.budget_multiplier.high: 20 is outside" in err
