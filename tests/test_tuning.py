"""`marketsim tune` and `experiments.tuning.tune`: recovery of a closed-form optimum, resume,
Pareto front, bad input, the Python API."""

from __future__ import annotations

import copy
import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from helpers import load_tiny
from scipy.special import lambertw

from experiments import tuning
from experiments.cli.main import build_parser, main
from experiments.executors import LocalExecutor
from experiments.files import load_variants
from sim.errors import ScenarioError, StorageError, UsageError
from sim.scenario import Scenario, Strategies
from sim.validation import parse_scenario
from strategies.registry import validate_choice


@pytest.fixture
def marketsim():
    """``marketsim`` in process; returns the exit code, also for argparse usage errors."""

    def run(argv: list[str]) -> int:
        try:
            return main(argv)
        except SystemExit as exc:
            return int(exc.code or 0)

    return run


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def small_tiny(tmp_path: Path, population: int = 1000) -> Path:
    data = load_tiny()
    data["regions"][0]["population"] = population
    return write_yaml(tmp_path / "tiny_small.yaml", data)


# =========================================================================== closed form
ALPHA = 0.08  # logit price coefficient per USD
TRIALS = 25
UNIT_COST, FREIGHT = 8.0, 2.0


def monopoly(population: int = 20_000, days: int = 60) -> dict:
    """One region, one product, no competitor, no taxes/fees/returns/losses, fixed FX 1.0,
    everyone aware, no loyalty term, one segment with a common price coefficient, occasions
    independent of our price (dropout never depends on satisfaction), unlimited stock."""
    d = copy.deepcopy(load_tiny())
    d["horizon_days"] = days
    d["competitors"] = []
    r = d["regions"][0]
    r["population"] = population
    r["fx"] = {"local_per_base": 1.0, "daily_volatility": 0.0}
    r["tax"] = {"duty_rate": 0.0, "vat_rate": 0.0, "de_minimis_local": 0.0}
    r["awareness"] = {"initial_share": 1.0}
    r["repeat"] = {"r": 1.0, "alpha_days": 4.0, "a": 1.0, "b": 1000.0}
    r["choice"] = {"outside_utility": 0.0, "machine_translation_penalty": 0.7, "loyalty_weight": 0}
    r["service"] = {"dissatisfaction_dropout_uplift": 0.0}
    seg = r["segments"][0]
    seg["price_sensitivity"] = {"mean": ALPHA, "cv": 0.0}
    seg["payment_preferences"] = {"card": 1.0}
    d["products"] = [
        {
            "id": "mug",
            "category": "home",
            "unit_cost_base": UNIT_COST,
            "quality": 0.6,
            "eco_score": 0.3,
            "return_probability": 0.0,
        }
    ]
    lane = d["lanes"][0]
    lane.update(cost_per_unit_base=FREIGHT, cost_per_shipment_base=0.0, loss_probability=0.0)
    f = d["firm"]
    f["warehouses"][0]["initial_units"] = 10_000_000
    f["inventory_policy"] = []
    f["payment_fee_rate"] = {"card": 0.0}
    f["fx_conversion_fee"] = 0.0
    f["marketing_budget_monthly_base"] = {}
    f["fixed_costs_monthly_base"] = 1000.0
    d["strategies"] = {"pricing": {"name": "cost_plus", "params": {"markup": 0.6}}}
    return d


def optimal_markup(sc: Scenario) -> float:
    """m* from p* = c + (1 + W(exp(V - a c - 1 - u0))) / a, with c the landed unit cost."""
    region, seg, product = sc.regions[0], sc.regions[0].segments[0], sc.products[0]
    lane = sc.lanes[0]
    c = product.unit_cost_base + lane.cost_per_unit_base
    v = (
        seg.quality_weight * product.quality
        + seg.eco_weight * product.eco_score
        - seg.delivery_weight_per_day * lane.promised_days
        - region.regulation.consent_penalty
    )
    if region.language != sc.firm.source_language:
        v -= region.choice.machine_translation_penalty
    a, u0 = seg.price_sensitivity.mean, region.choice.outside_utility
    p_star = c + (1.0 + lambertw(np.exp(v - a * c - 1.0 - u0)).real) / a
    # first-order condition p - c = 1 / (a (1 - s(p)))
    s = np.exp(v - a * p_star) / (np.exp(u0) + np.exp(v - a * p_star))
    assert abs((p_star - c) - 1.0 / (a * (1.0 - s))) < 1e-9
    return float(p_star / c - 1.0)


def test_tune_recovers_closed_form_monopoly_markup(tmp_path, marketsim, capsys) -> None:
    """Logit monopoly, cost_plus markup searched in [0, 3] (fx pass-through fixed), 25 trials
    x 1 scenario x 2 CRN replications of 20,000 consumers over 60 days (~290k occasions per
    replication): the best markup is within 5% of the closed-form m* (about 1.472). Also
    checks that every output is produced and parseable."""
    data = monopoly()
    scenario_file = write_yaml(tmp_path / "monopoly.yaml", data)
    m_star = optimal_markup(parse_scenario(data, "monopoly"))
    tune_file = write_yaml(
        tmp_path / "tune.yaml",
        {
            "strategies": {
                "pricing": {
                    "name": "cost_plus",
                    "params": {"markup": {"low": 0.0, "high": 3.0}, "fx_pass_through": 1.0},
                }
            }
        },
    )
    out = tmp_path / "out"
    started = time.perf_counter()
    argv = ["tune", str(scenario_file), "--tune", str(tune_file), "--trials", str(TRIALS)]
    code = marketsim([*argv, "--reps", "2", "--out", str(out), "--workers", "1"])
    elapsed = time.perf_counter() - started
    printed = capsys.readouterr().out
    assert code == 0, printed
    summary = json.loads((out / "summary.json").read_text())
    found = summary["best"]["params"]["pricing.markup"]
    rel = found / m_star - 1.0
    print(f"m* = {m_star:.4f}, found {found:.4f} ({rel:+.2%}) in {TRIALS} trials, {elapsed:.0f} s")
    assert abs(rel) < 0.05, f"best markup {found:.4f} vs closed form {m_star:.4f} ({rel:+.2%})"

    # summary
    assert summary["command"] == "tune"
    assert summary["objective"] == "net_profit_base"
    assert summary["robust"] == "mean"
    assert summary["study"] == "tune-tiny"
    assert summary["storage"] == f"sqlite:///{(out / 'study.db').resolve()}"
    assert sum(summary["n_trials"].values()) == TRIALS
    assert summary["baseline"]["params"] == {"pricing.markup": 0.6}
    assert "optuna-dashboard sqlite:///" in printed and "pricing.markup" in printed
    # best_strategies.yaml: a valid strategies block, only the tuned kind
    doc = yaml.safe_load((out / "best_strategies.yaml").read_text())
    block = doc["strategies"]
    Strategies.model_validate(block)
    assert set(block) == {"decision_interval_days", "pricing"}
    assert block["pricing"] == {
        "name": "cost_plus",
        "params": {"markup": found, "fx_pass_through": 1.0},
    }
    validate_choice("pricing", "cost_plus", block["pricing"]["params"], parse_scenario(data))
    # trials.csv
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == TRIALS and set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    assert {"number", "value", "pricing.markup", "net_profit_base[tiny]", "duration_s"} <= set(
        trials.columns
    )
    best_row = trials.loc[trials["value"].idxmax()]
    assert best_row["pricing.markup"] == pytest.approx(found)
    # importance.csv (one parameter -> importance 1)
    imp = pd.read_csv(out / "importance.csv")
    assert list(imp["param"]) == ["pricing.markup"]
    assert imp["importance"].iloc[0] == pytest.approx(1.0)
    # the study is a normal RDB storage; the replications are stored per trial
    study = optuna.load_study(study_name="tune-tiny", storage=summary["storage"])
    assert len(study.trials) == TRIALS
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "tune"
    assert len(manifest["runs"]) == 2 * TRIALS
    seeds = {tuple(r["seed_entropy"]) for r in manifest["runs"].values()}
    assert seeds == {(7, 0, 0), (7, 0, 1)}  # the same CRN seeds in every trial


# =========================================================================== resume
def test_rerun_resumes_the_study(tmp_path, marketsim, capsys) -> None:
    """--trials is the study's total: 3, then 5 (two more, the first three kept), then 5
    again (nothing run); a different objective on the same study is refused."""
    scenario_file = small_tiny(tmp_path)
    out = tmp_path / "out"
    base = ["tune", str(scenario_file), "--reps", "1", "--days", "10", "--workers", "1"]
    base += ["--out", str(out)]
    assert marketsim([*base, "--trials", "3"]) == 0
    first = pd.read_csv(out / "trials.csv")
    assert list(first["number"]) == [0, 1, 2]
    assert marketsim([*base, "--trials", "5"]) == 0
    second = pd.read_csv(out / "trials.csv")
    assert list(second["number"]) == [0, 1, 2, 3, 4]
    pd.testing.assert_frame_equal(
        first[["number", "value", "pricing.markup"]],
        second[["number", "value", "pricing.markup"]][:3],
    )
    capsys.readouterr()
    assert marketsim([*base, "--trials", "5"]) == 0
    assert "no new trial run" in capsys.readouterr().out
    third = pd.read_csv(out / "trials.csv")
    assert list(third["number"]) == [0, 1, 2, 3, 4]
    # the same study with another objective would mix incomparable values
    assert marketsim([*base, "--trials", "6", "--objective", "units"]) == 2
    err = capsys.readouterr().err
    assert "--study" in err and "objectives" in err
    assert len(pd.read_csv(out / "trials.csv")) == 5


def test_one_process_is_reproducible(tmp_path, marketsim) -> None:
    """The same command into two fresh folders gives the same trials (seeded TPE, CRN)."""
    scenario_file = small_tiny(tmp_path)
    tables = []
    for name in ("a", "b"):
        out = tmp_path / name
        argv = ["tune", str(scenario_file), "--trials", "4", "--reps", "1", "--days", "8"]
        assert marketsim([*argv, "--workers", "1", "--out", str(out)]) == 0
        tables.append(pd.read_csv(out / "trials.csv"))
    cols = ["number", "state", "value", "pricing.markup", "pricing.fx_pass_through"]
    pd.testing.assert_frame_equal(tables[0][cols], tables[1][cols])


# =========================================================================== Pareto
def test_multi_objective_writes_non_dominated_front(tmp_path, marketsim) -> None:
    scenario_file = small_tiny(tmp_path)
    out = tmp_path / "out"
    argv = ["tune", str(scenario_file), "--objectives", "net_profit_base,market_share"]
    argv += ["--trials", "8", "--reps", "1", "--days", "10", "--workers", "1", "--out", str(out)]
    code = marketsim(argv)
    assert code == 0
    trials = pd.read_csv(out / "trials.csv")
    pareto = pd.read_csv(out / "pareto.csv")
    cols = ["value_net_profit_base", "value_market_share"]
    complete = trials[trials["state"] == "COMPLETE"][cols].to_numpy()
    front = pareto[cols].to_numpy()
    assert len(front) >= 1

    def dominates(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(np.all(a >= b) and np.any(a > b))  # both maximized

    for row in front:
        assert not any(dominates(other, row) for other in complete), row
    # every complete trial off the front is dominated by a front member
    front_numbers = set(pareto["number"])
    for number, row in zip(trials["number"], trials[cols].to_numpy(), strict=True):
        if number not in front_numbers and np.all(np.isfinite(row)):
            assert any(dominates(f, row) or np.array_equal(f, row) for f in front)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective"] is None
    assert [o["kpi"] for o in summary["objectives"]] == ["net_profit_base", "market_share"]
    assert sorted(p["number"] for p in summary["pareto"]) == sorted(front_numbers)
    doc = yaml.safe_load((out / "best_strategies.yaml").read_text())
    Strategies.model_validate(doc["strategies"])
    variants = load_variants(out / "pareto_variants.yaml", parse_scenario(load_tiny()))
    assert {v.name for v in variants.variants} == {f"trial-{n}" for n in front_numbers}
    imp = pd.read_csv(out / "importance.csv")
    assert set(imp["objective"]) <= {"net_profit_base", "market_share"}


# =========================================================================== bad input
def _tune_file(tmp_path: Path, strategies: dict) -> str:
    return str(write_yaml(tmp_path / "tune.yaml", {"strategies": strategies}))


BAD = {
    "unknown objective": (lambda p: ["--objective", "profit"], "unknown KPI 'profit'"),
    "objective without direction": (
        lambda p: ["--objective", "occasions"],
        "no better direction",
    ),
    "unknown objectives": (
        lambda p: ["--objectives", "net_profit_base,nope"],
        "unknown KPI 'nope'",
    ),
    "bad robust rule": (lambda p: ["--robust", "cvar:2"], "cvar:ALPHA"),
    "unknown strategy": (
        lambda p: ["--tune", _tune_file(p, {"pricing": {"name": "magic"}})],
        "strategies.pricing.name: unknown pricing strategy 'magic'",
    ),
    "unknown parameter": (
        lambda p: ["--tune", _tune_file(p, {"pricing": {"params": {"margin": 0.3}}})],
        "strategies.pricing.params.margin: unknown parameter",
    ),
    "unknown kind": (
        lambda p: ["--tune", _tune_file(p, {"shipping": {"name": "x"}})],
        "strategies.shipping",
    ),
    "bound outside declared": (
        lambda p: [
            "--tune",
            _tune_file(p, {"pricing": {"params": {"markup": {"low": 0.1, "high": 9.0}}}}),
        ],
        "strategies.pricing.params.markup.high: 9 is outside the declared bounds [0, 5]",
    ),
    "low above high": (
        lambda p: [
            "--tune",
            _tune_file(p, {"pricing": {"params": {"markup": {"low": 2.0, "high": 1.0}}}}),
        ],
        "`low <= high` must hold",
    ),
    "bad fixed value": (
        lambda p: ["--tune", _tune_file(p, {"pricing": {"params": {"fx_pass_through": 2.0}}})],
        "strategies.pricing.params.fx_pass_through: expected 0 <= value <= 1",
    ),
    "nothing to tune": (
        lambda p: [
            "--tune",
            _tune_file(p, {"pricing": {"params": {"markup": 0.5, "fx_pass_through": 1.0}}}),
        ],
        "nothing to tune",
    ),
    "unreachable storage": (
        lambda p: ["--storage", "postgresql://u:secret@127.0.0.1:1/db"],
        "cannot open storage postgresql://u:***@127.0.0.1:1/db",
    ),
    "invalid storage url": (lambda p: ["--storage", "nosuchdb://x"], "cannot open storage"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_clear_message(tmp_path, marketsim, capsys, case) -> None:
    extra, expected = BAD[case]
    out = tmp_path / "out"
    argv = ["tune", str(small_tiny(tmp_path)), "--trials", "2", "--reps", "1", "--days", "5"]
    code = marketsim([*argv, "--workers", "1", "--out", str(out), *extra(tmp_path)])
    assert code == 2
    captured = capsys.readouterr()
    message = captured.err.strip()
    assert expected in message, message
    assert "Traceback" not in message
    assert "secret" not in captured.err + captured.out
    for name in ("summary.json", "best_strategies.yaml", "trials.csv", "manifest.json"):
        assert not (out / name).exists(), name


# =========================================================================== units
def test_robust_rules() -> None:
    a, b = np.array([1.0, 3.0]), np.array([10.0, 20.0, 30.0, 40.0])
    mean, worst = tuning.RobustRule("mean"), tuning.RobustRule("worst")
    assert mean.aggregate([a, b], +1) == pytest.approx(np.mean([1, 3, 10, 20, 30, 40]))
    assert worst.aggregate([a, b], +1) == 2.0
    assert worst.aggregate([a, b], -1) == 25.0
    rule = tuning.parse_robust("cvar:0.34")
    assert str(rule) == "cvar:0.34"
    # the worst ceil(0.34 x 6) = 3 of the 6 scenario x rep values
    assert rule.aggregate([a, b], +1) == pytest.approx((1 + 3 + 10) / 3)
    assert rule.aggregate([a, b], -1) == pytest.approx((40 + 30 + 20) / 3)
    for bad in ("cvar", "cvar:0", "cvar:1.5", "median"):
        with pytest.raises(UsageError, match="--robust"):
            tuning.parse_robust(bad)


def test_redaction_and_manifest(tmp_path, monkeypatch) -> None:
    url = "postgresql+psycopg2://alice:s3cr%40t@db.example:5432/study"
    assert tuning.redact(url) == "postgresql+psycopg2://alice:***@db.example:5432/study"
    assert tuning.redact(f"--storage={url}") == f"--storage={tuning.redact(url)}"
    assert tuning.redact("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    monkeypatch.setattr(sys, "argv", ["marketsim", "tune", "x.yaml", "--storage", url])
    store = tuning.TuneStore.open(tmp_path, "tune", {})
    text = (tmp_path / "manifest.json").read_text()
    assert "s3cr" not in text and "alice:***@" in text
    assert store.manifest["argv"][-1] == tuning.redact(url)


def test_search_space_from_scenario_and_tune_file(tmp_path) -> None:
    data = load_tiny()
    sc = parse_scenario(data)
    space = tuning.build_search_space([sc])
    assert [p.key for p in space.params] == ["pricing.markup", "pricing.fx_pass_through"]
    dists = {p.key: p.distribution() for p in space.params}
    assert dists["pricing.markup"] == optuna.distributions.FloatDistribution(0.0, 5.0)
    assert {k.kind for k in space.kinds} == {"pricing", "selection", "retention", "localization"}
    assert space.baseline(sc) == {"pricing.markup": 0.6, "pricing.fx_pass_through": 1.0}

    tune_file = tmp_path / "tune.yaml"
    write_yaml(
        tune_file,
        {
            "strategies": {
                "retention": {
                    "name": "loyalty_program",
                    "params": {"min_orders": {"low": 2, "high": 4}, "cost_per_member": 0.1},
                },
                "localization": {"name": "invest", "params": {"pay_card": True}},
                "selection": {
                    "name": "stop_loss",
                    "params": {
                        "choice": {"choices": ["top_margin", "three_factor"]},
                        "review_days": {"low": 14, "high": 56, "log": True},
                    },
                },
            }
        },
    )
    space = tuning.build_search_space([sc], tuning.load_tune_file(tune_file), str(tune_file))
    dists = {p.key: p.distribution() for p in space.params}
    assert "pricing.markup" not in dists  # kinds not listed are not tuned
    assert dists["retention.min_orders"] == optuna.distributions.IntDistribution(2, 4)
    assert "retention.cost_per_member" not in dists
    assert dists["localization.human_translation"] == optuna.distributions.CategoricalDistribution(
        (False, True)
    )
    assert "localization.pay_card" not in dists
    assert dists["selection.choice"] == optuna.distributions.CategoricalDistribution(
        ("top_margin", "three_factor")
    )
    assert dists["selection.review_days"] == optuna.distributions.IntDistribution(14, 56, log=True)
    block = space.strategies(space.lows())
    assert block["retention"]["params"]["cost_per_member"] == 0.1
    assert block["localization"]["params"]["pay_card"] is True
    assert "pricing" not in block
    Strategies.model_validate(block)
    assert space.problems(block, [sc]) == []


def test_bad_tune_file_lists_file_and_field(tmp_path) -> None:
    sc = parse_scenario(load_tiny())
    tune_file = write_yaml(
        tmp_path / "t.yaml",
        {"strategies": {"pricing": {"params": {"markup": {"low": -1, "hi": 2}}}}},
    )
    with pytest.raises(ScenarioError) as err:
        tuning.build_search_space([sc], tuning.load_tune_file(tune_file), str(tune_file))
    text = str(err.value)
    assert f"{tune_file}: strategies.pricing.params.markup.hi" in text


# =========================================================================== Python API
def test_python_tune_writes_nothing_and_matches_the_cli(tmp_path, marketsim, monkeypatch) -> None:
    """`tune(...)` without `out` runs an in-memory study, writes no file anywhere, and gives
    the CLI's trials and best value on the same inputs (also from a loaded Scenario)."""
    scenario_file = small_tiny(tmp_path)
    out = tmp_path / "out"
    argv = ["tune", str(scenario_file), "--trials", "4", "--reps", "1", "--days", "8"]
    assert marketsim([*argv, "--workers", "1", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    cli_trials = pd.read_csv(out / "trials.csv")

    empty = tmp_path / "cwd"
    empty.mkdir()
    monkeypatch.chdir(empty)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = tuning.tune([scenario_file], trials=4, reps=1, days=8, workers=1)
    loaded = parse_scenario(yaml.safe_load(scenario_file.read_text()))
    with LocalExecutor(1) as pool:  # an executor object is used, not closed
        again = tuning.tune([loaded], trials=4, reps=1, days=8, executor=pool)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert isinstance(result, tuning.TuneResult)
    assert result.storage == "in-memory" and result.study_name == "tune-tiny"
    assert result.best_value == summary["best"]["values"]["net_profit_base"]
    assert result.best_params == summary["best"]["params"]
    assert (
        result.best_strategies
        == yaml.safe_load((out / "best_strategies.yaml").read_text())["strategies"]
    )
    assert again.best_value == result.best_value
    cols = ["number", "state", "value", "pricing.markup", "pricing.fx_pass_through"]
    pd.testing.assert_frame_equal(result.trials[cols], cli_trials[cols], check_dtype=False)
    assert result.pareto is None and result.finished_before == 0
    # writing is explicit and gives the CLI's files (no manifest: nothing was stored)
    written = result.write(tmp_path / "later")
    assert written == ["best_strategies.yaml", "trials.csv", "importance.csv", "summary.json"]
    assert (tmp_path / "later" / "best_strategies.yaml").read_bytes() == (
        out / "best_strategies.yaml"
    ).read_bytes()


def test_summary_records_search_space_and_metric_names(tmp_path, marketsim) -> None:
    """summary.json's `search_space` maps each trials.csv parameter column to its Optuna
    distribution (JSON), `metric_names` lists the objectives; the stored study has them too."""
    out = tmp_path / "out"
    argv = ["tune", str(small_tiny(tmp_path)), "--objectives", "net_profit_base,units"]
    argv += ["--trials", "3", "--reps", "1", "--days", "5", "--workers", "1", "--out", str(out)]
    assert marketsim(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    space = {
        k: optuna.distributions.json_to_distribution(v) for k, v in summary["search_space"].items()
    }
    assert space == {
        "pricing.markup": optuna.distributions.FloatDistribution(0.0, 5.0),
        "pricing.fx_pass_through": optuna.distributions.FloatDistribution(0.0, 1.0),
    }
    assert set(space) <= set(pd.read_csv(out / "trials.csv").columns)
    assert summary["metric_names"] == ["net_profit_base", "units"]
    assert summary["tuned_strategies"]["strategies"]["pricing"]["name"] == "cost_plus"
    study = optuna.load_study(study_name="tune-tiny", storage=summary["storage"])
    assert study.metric_names == ["net_profit_base", "units"]


def test_cli_defaults_are_the_library_defaults() -> None:
    """`marketsim tune`'s flag defaults are `tune`'s, and `--help` shows them."""
    from experiments.cli import tune as cli_tune

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    parser = sub.choices["tune"]
    defaults = {a.dest: a.default for a in parser._actions}
    signature = inspect.signature(tuning.tune).parameters
    for name in ("robust", "reps", "heartbeat", "max_retry", "grace", "days", "seed", "workers"):
        assert defaults[name] == signature[name].default, name
    assert defaults["tune"] == signature["tune_file"].default
    assert defaults["study"] == signature["study_name"].default
    assert cli_tune.DEFAULT_OBJECTIVE_TEXT == tuning.DEFAULT_OBJECTIVE
    assert cli_tune.DEFAULTS["heartbeat"] == tuning.DEFAULT_HEARTBEAT_S
    text = parser.format_help()
    assert "(default: 3)" in text and "(default: mean)" in text and "(default: 10)" in text


API_ERRORS = {
    "objective": ({"objective": "profit"}, UsageError, "--objective: unknown KPI 'profit'"),
    "both objectives": (
        {"objective": "units", "objectives": ["units", "revenue_base"]},
        UsageError,
        "not both",
    ),
    "objectives list": ({"objectives": ["units"]}, UsageError, "at least two different"),
    "robust": ({"robust": "median"}, UsageError, "--robust"),
    "grace": ({"heartbeat": 5, "grace": 5}, UsageError, "--grace"),
    "trials": ({"trials": 0}, UsageError, "--trials"),
    "storage": ({"storage": "nosuchdb://x"}, StorageError, "cannot open storage"),
}


@pytest.mark.parametrize("case", list(API_ERRORS))
def test_python_tune_raises_typed_errors(tmp_path, case) -> None:
    kwargs, error, expected = API_ERRORS[case]
    args = {"trials": 2, "reps": 1, "days": 5, "workers": 1, **kwargs}
    with pytest.raises(error, match=expected.replace("(", r"\(")):
        tuning.tune([small_tiny(tmp_path)], **args)
    assert not list(tmp_path.glob("**/*.csv"))
