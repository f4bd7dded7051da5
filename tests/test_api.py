"""The public Python API: the README example runs as written; API and CLI give equal tables."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

import marketsim as ms
from experiments.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- api-example[^>]*-->\n```python\n(.*?)```", text, re.S)
    assert match, "README has no api-example block"
    return match.group(1)


def test_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    for folder in ("scenarios", "examples"):
        os.symlink(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "net profit:" in printed
    assert (tmp_path / "results/api-compare/ranking.csv").is_file()
    assert (tmp_path / "results/api-compare/report/report.html").is_file()
    cmp = namespace["cmp"]
    assert cmp.precision["stopped"] in {"precision reached", "cap reached"}
    assert set(cmp.ranking["variant"]) == {"markup_90", "markup_120"}


def test_simulate_writes_nothing_and_equals_cli_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = ROOT / "scenarios/tiny.yaml"
    result = ms.simulate(scenario, days=40, seed=3)
    assert list(tmp_path.iterdir()) == []
    assert main(["run", str(scenario), "--days", "40", "--seed", "3", "--out", "cli"]) == 0
    cli = (tmp_path / "cli/kpis.csv").read_text()
    result.write(tmp_path / "api")
    assert (tmp_path / "api/kpis.csv").read_text() == cli


def test_compare_api_equals_cli_and_runs_are_one_tidy_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = ROOT / "scenarios/tiny.yaml"
    variants = tmp_path / "variants.yaml"
    variants.write_text(
        "variants:\n"
        "  - {name: low, pricing: {name: cost_plus, params: {markup: 0.4}}}\n"
        "  - {name: high, pricing: {name: cost_plus, params: {markup: 1.1}}}\n"
    )
    api = ms.compare(scenario, variants, reps=3, days=30, workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["variants.yaml"]
    argv = ["compare", str(scenario), "--variants", str(variants), "--reps", "3"]
    assert main([*argv, "--days", "30", "--workers", "1", "--out", "cli"]) == 0
    for name, frame in {"ranking": api.ranking, "differences": api.differences}.items():
        cli = pd.read_csv(tmp_path / f"cli/{name}.csv")
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), cli, check_dtype=False)
    runs = pd.read_parquet(tmp_path / "cli/runs")
    assert {"scenario", "variant", "rep", "day", "region"} <= set(runs.columns)
    assert runs.groupby(["variant", "rep"], observed=True).ngroups == 3 * len(api.variants)


def test_scenario_from_a_dict_and_errors_are_typed(tmp_path):
    import yaml

    data = yaml.safe_load((ROOT / "scenarios/tiny.yaml").read_text())
    assert ms.load_scenario(data).name == ms.load_scenario(ROOT / "scenarios/tiny.yaml").name
    data["horizon_days"] = -5
    try:
        ms.load_scenario(data)
    except ms.ScenarioError as exc:
        assert any(line.startswith("<dict>: horizon_days:") for line in exc.lines())
    else:
        raise AssertionError("a negative horizon was accepted")
    try:
        ms.compare(data | {"horizon_days": 30}, {"a": {}}, kpi="no_such_kpi")
    except ms.UsageError as exc:
        assert "unknown KPI 'no_such_kpi'" in str(exc)
    else:
        raise AssertionError("an unknown KPI was accepted")
