"""The app's logic without a browser: levers from Params, world levers, runs, exports, CLI."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

import marketsim as ms
from experiments.app import levers as lv
from experiments.app.jobs import Cancelled, WhatIf, run_whatif
from experiments.files import load_variants
from tests.helpers import TINY_PATH

ROOT = Path(__file__).resolve().parent.parent
SEA = ROOT / "scenarios" / "sea_entry.yaml"


def test_controls_come_from_the_declared_params() -> None:
    regions = ("ID", "VN", "PH")
    keys = [lever.key for lever in lv.strategy_levers("pricing", "competitive_index", regions)]
    assert keys[:3] == ["pricing.index.ID", "pricing.index.VN", "pricing.index.PH"]
    assert "pricing.min_margin" in keys
    lever = lv.strategy_levers("pricing", "competitive_index", regions)[0]
    params = lv.set_lever({"index": 0.95}, lever, 0.9, regions)
    assert params == {"index": {"ID": 0.9, "VN": 0.95, "PH": 0.95}}
    assert lv.lever_value(lever, params) == 0.9
    assert lv.shipped_scenarios()["tiny"] == TINY_PATH


def test_bad_lever_values_get_field_paths() -> None:
    scenario = ms.load_scenario(SEA)
    bad = {"pricing": {"name": "competitive_index", "params": {"index": {"ID": 2.0}}}}
    with pytest.raises(ms.MarketsimError) as exc:
        lv.check_strategies(scenario, bad, "variant")
    assert exc.value.lines() == [
        "variant: pricing.params.index.ID: expected 0.5 <= value <= 1.5, got 2.0"
    ]
    with pytest.raises(ms.MarketsimError) as exc2:
        lv.apply_world(scenario, lv.WorldLevers(marketing_monthly_base={"ID": -1.0}))
    assert "firm.marketing_budget_monthly_base.ID" in "\n".join(exc2.value.lines())


def test_world_levers_apply_through_the_library() -> None:
    scenario = ms.load_scenario(SEA)
    world = lv.WorldLevers(
        marketing_monthly_base={"ID": 1000.0}, entry_month={"VN": 3}, local_warehouse={"ID": True}
    )
    changed = lv.apply_world(scenario, world)
    assert lv.marketing_monthly(changed)["ID"] == pytest.approx(1000.0)
    assert lv.entry_months(changed) == {"ID": 0, "VN": 3, "PH": 0}
    assert changed.strategies.localization.params["per_region"]["ID"]["local_warehouse"]
    assert lv.apply_world(scenario, lv.WorldLevers()) is scenario


def test_exported_variants_file_is_accepted_by_compare(tmp_path: Path) -> None:
    scenario = ms.load_scenario(SEA)
    base = lv.strategy_choices(scenario)
    variant = {**base, "pricing": {"name": "competitive_index", "params": {"index": {"ID": 0.9}}}}
    path = tmp_path / "variants.yaml"
    path.write_text(lv.variants_yaml(base, variant), encoding="utf-8")
    parsed = load_variants(path, scenario)
    assert [v.name for v in parsed.variants] == ["baseline", "variant"]
    assert parsed.baseline == "baseline"


def test_whatif_equals_compare_and_pairs_worlds_on_the_same_seeds() -> None:
    scenario = ms.load_scenario(TINY_PATH)
    base = lv.strategy_choices(scenario)
    variant = {**base, "pricing": {"name": "cost_plus", "params": {"markup": 0.9}}}
    seen: list[tuple[int, int]] = []
    job = WhatIf(scenario, scenario, base, variant, reps=2, days=20, seed=7)
    result = run_whatif(job, lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    cmp = ms.compare(
        scenario,
        {"baseline": base, "variant": variant},
        baseline="baseline",
        reps=2,
        days=20,
        seed=7,
        workers=1,
    )
    pd.testing.assert_frame_equal(result.per_rep, cmp.per_rep)
    # a changed world runs both worlds with replicate on the same seeds: the baseline's
    # replications are exactly compare's, so the differences stay paired
    richer = lv.apply_world(scenario, lv.WorldLevers(marketing_monthly_base={"XA": 3000.0}))
    world = run_whatif(WhatIf(scenario, richer, base, variant, reps=2, days=20, seed=7))
    assert world.comparison is None
    cols = list(cmp.per_rep.columns)
    key = ["rep", "region"]
    pick = "variant == 'baseline'"
    got = world.per_rep.query(pick)[cols].sort_values(key).reset_index(drop=True)
    want = cmp.per_rep.query(pick).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert world.verdict.gain_mean != pytest.approx(result.verdict.gain_mean)
    steps = dict(result.waterfalls()["ALL"])
    mean_net = cmp.per_rep.query("variant == 'variant' and region == 'ALL'")["net_profit_base"]
    assert steps["net profit"] == pytest.approx(mean_net.mean())


def test_cancel_stops_the_run() -> None:
    scenario = ms.load_scenario(TINY_PATH)
    base = lv.strategy_choices(scenario)
    stop = threading.Event()
    job = WhatIf(scenario, scenario, base, base, reps=3, days=10, seed=1)
    with pytest.raises(Cancelled, match="cancelled after 1 of 6"):
        run_whatif(job, lambda done, total: stop.set(), stop)


def test_the_cli_parser_does_not_import_the_web_framework() -> None:
    code = (
        "import sys; from experiments.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('solara', 'uvicorn', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
    helptext = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "app", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "--port" in helptext and "127.0.0.1" in helptext


def test_baseline_and_variant_from_a_variants_file(tmp_path: Path) -> None:
    scenario = ms.load_scenario(ROOT / "scenarios" / "default.yaml")
    found, baseline = lv.variants_from_file(scenario, ROOT / "examples" / "variants.yaml")
    assert baseline == "scenario_default"
    assert found["cost_plus_80"]["pricing"]["params"]["markup"] == 0.8
    assert found["scenario_default"] == lv.strategy_choices(scenario)  # the file's own
    assert found["retention_tiers"]["pricing"] == lv.strategy_choices(scenario)["pricing"]
    bad = tmp_path / "v.yaml"
    bad.write_text("variants:\n  - name: a\n    pricing: {name: nope}\n", encoding="utf-8")
    with pytest.raises(ms.MarketsimError) as exc:
        lv.variants_from_file(scenario, bad)
    assert exc.value.lines()[0].startswith(f"{bad}: variants[0].pricing.name: unknown pricing")
