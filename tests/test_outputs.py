"""The output schema (experiments/outputs.py) equals what every command writes today."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.outputs import (
    OUTPUTS,
    RUNS,
    command_of,
    objective_columns,
    outputs_of,
    read_summary,
    read_table,
    trials_table,
)
from sim.errors import DataError, UsageError
from tests.helpers import TINY_PATH

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = """\
baseline: m40
variants:
  - {name: m40, pricing: {name: cost_plus, params: {markup: 0.4}}}
  - {name: m80, pricing: {name: cost_plus, params: {markup: 0.8}}}
"""
FAST = ["--days", "30", "--workers", "1"]


def header(path: Path) -> list[str]:
    """Column names of a written CSV or Parquet table."""
    if path.suffix == ".parquet":
        return list(pd.read_parquet(path).columns)
    return list(pd.read_csv(path, nrows=0).columns)


def tune_families(out: Path) -> dict[str, list[str]]:
    """Family values of trials.csv from summary.json (metric, param, scenario)."""
    summary = read_summary(out)
    return {
        "metric": summary["metric_names"],
        "param": list(summary["search_space"]),
        "scenario": [s["label"] for s in summary["scenarios"]],
    }


def assert_declared(out: Path, command: str, **families: list[str]) -> None:
    """Every declared table of ``command`` that exists has exactly the declared columns."""
    written = 0
    for table in outputs_of(command).tables:
        if table.name == "trials.csv":
            table = trials_table(families["metric"])
        path = out / table.name
        if not path.exists():
            continue
        written += 1
        assert header(path) == table.names(**families), f"{command}: {table.name}"
        read_table(out, table)  # validates every declared plain column's type
    assert written, f"{command} wrote none of its tables"
    assert command_of(read_summary(out), out) == command


@pytest.fixture(scope="module")
def outs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("outputs")
    variants = root / "variants.yaml"
    variants.write_text(VARIANTS, encoding="utf-8")
    entry = root / "entry.yaml"
    entry.write_text(
        f"scenario: {TINY_PATH}\nreps: 2\nhorizon_days: 60\noptions:\n"
        "  - {name: now, regions: [{region: XA, entry_month: 0}]}\n"
        "  - {name: later, regions: [{region: XA, entry_month: 1}]}\n",
        encoding="utf-8",
    )
    tune = [str(TINY_PATH), "--trials", "3", "--reps", "2", *FAST]
    cases = {
        "run": ["run", str(TINY_PATH), "--days", "20"],
        "run --reps": ["run", str(TINY_PATH), "--reps", "2", *FAST],
        "compare": ["compare", str(TINY_PATH), "--variants", str(variants), "--reps", "2", *FAST],
        "entry": ["entry", str(entry), "--workers", "1"],
        "tune": ["tune", *tune, "--tune", str(ROOT / "examples/tune.yaml")],
        "tune multi": ["tune", *tune, "--objectives", "net_profit_base,cac_base"],
    }
    outs = {}
    for name, argv in cases.items():
        outs[name] = root / name.replace(" ", "_")
        assert main([*argv, "--out", str(outs[name])]) == 0, name
    return outs


@pytest.mark.parametrize("command", ["run", "run --reps", "compare", "entry"])
def test_replication_commands_write_the_declared_columns(
    outs: dict[str, Path], command: str
) -> None:
    assert_declared(outs[command], command)


@pytest.mark.parametrize("case", ["tune", "tune multi"])
def test_tune_writes_the_declared_columns(outs: dict[str, Path], case: str) -> None:
    out = outs[case]
    families = tune_families(out)
    assert_declared(out, "tune", **families)
    assert (out / "pareto.csv").exists() == (case == "tune multi")
    assert header(out / "trials.csv")[2 : 2 + len(families["metric"])] == objective_columns(
        families["metric"]
    )


def test_tune_summary_records_search_space_and_metric_names(outs: dict[str, Path]) -> None:
    from optuna.distributions import FloatDistribution, json_to_distribution

    summary = read_summary(outs["tune multi"])
    assert summary["metric_names"] == ["net_profit_base", "cac_base"]
    space = {k: json_to_distribution(v) for k, v in summary["search_space"].items()}
    assert space and all(isinstance(d, FloatDistribution) for d in space.values())
    for key in (k.name for k in outputs_of("tune").summary):
        assert key in summary, key


def test_daily_run_tables_match_the_declared_partition_columns(outs: dict[str, Path]) -> None:
    stored = sorted((outs["compare"] / "runs").rglob("*.parquet"))
    assert stored
    data = [c.name for c in RUNS.columns]
    for path in stored:
        assert header(path) == data


def test_partitioned_runs_load_in_one_call(tmp_path: Path, outs: dict[str, Path]) -> None:
    expected = "runs/scenario=abc/variant=m40/rep=3/part-0.parquet"
    assert RUNS.path(scenario="abc", variant="m40", rep=3) == expected
    frame = pd.read_parquet(next((outs["compare"] / "runs").rglob("*.parquet")))
    for variant in ("m40", "m80"):
        for rep in range(2):
            path = tmp_path / RUNS.path(scenario="abc", variant=variant, rep=rep)
            path.parent.mkdir(parents=True)
            frame.to_parquet(path, index=False)
    loaded = pd.read_parquet(tmp_path / RUNS.root)
    assert list(loaded.columns) == RUNS.names()
    assert len(loaded) == 4 * len(frame)
    with pytest.raises(UsageError, match="partition keys"):
        RUNS.path(variant="m40")


def test_missing_column_is_a_data_error_naming_file_and_column(
    tmp_path: Path, outs: dict[str, Path]
) -> None:
    table = outputs_of("entry").table("options.csv")
    frame = pd.read_csv(outs["entry"] / table.name).drop(columns="p_loss")
    frame.to_csv(tmp_path / table.name, index=False)
    with pytest.raises(DataError, match=r"options\.csv: missing column\(s\) \['p_loss'\]"):
        read_table(tmp_path, table)
    assert read_table(tmp_path, table, columns=["option", "npv_mean"])["npv_mean"].notna().all()


def test_wrong_type_and_unknown_names(tmp_path: Path) -> None:
    table = outputs_of("compare").table("ranking.csv")
    pd.DataFrame({c: ["x"] for c in table.names()}).to_csv(tmp_path / table.name, index=False)
    with pytest.raises(DataError, match="'rank' should hold numbers, found 'x'"):
        read_table(tmp_path, table)
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path, outputs_of("compare").table("differences.csv"))
    with pytest.raises(UsageError, match="valid:"):
        outputs_of("calibrate")
    with pytest.raises(UsageError, match="tables:"):
        outputs_of("run").table("options.csv")


def test_labels_and_headers() -> None:
    options = outputs_of("entry").table("options.csv")
    assert options.header("npv_low", "EUR") == "NPV of cash flows, 95% CI low (EUR)"
    assert options.header("p_loss") == "P(loss) (share)"
    assert outputs_of("compare").table("ranking.csv").header("p_best") == "P(best) (share)"
    assert set(OUTPUTS) == {"run", "run --reps", "compare", "entry", "tune", "explore"}


def test_read_summary_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no summary\.json"):
        read_summary(tmp_path)
    (tmp_path / "summary.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(DataError, match="not a marketsim summary"):
        read_summary(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"command": "x"}), encoding="utf-8")
    assert command_of(read_summary(tmp_path), tmp_path) is None
