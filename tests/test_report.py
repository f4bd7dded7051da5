"""`marketsim report`: every report file is produced, non-empty, self-contained, and opens."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import distribution_to_json

from experiments.cli import main
from experiments.outputs import objective_columns, outputs_of, trials_table
from experiments.report import REPORT_DIR, REPORT_FILE, write_report
from tests.helpers import TINY_PATH

VARIANTS = """\
baseline: m40
variants:
  - {name: m40, pricing: {name: cost_plus, params: {markup: 0.4}}}
  - {name: m80, pricing: {name: cost_plus, params: {markup: 0.8}}}
"""
FAST = ["--days", "30", "--workers", "1"]


def open_png(path: Path) -> tuple[int, ...]:
    """Decode a PNG (PIL when installed, else matplotlib) and return its array shape."""
    try:
        from PIL import Image

        with Image.open(path) as img:
            img.load()
            return np.asarray(img).shape
    except ImportError:  # pragma: no cover - PIL is optional
        import matplotlib.image

        return matplotlib.image.imread(path).shape


def check_report(out: Path, expected: set[str]) -> str:
    """Every file exists, is non-empty and opens; the HTML embeds each PNG and nothing remote."""
    report = out / REPORT_DIR / REPORT_FILE
    assert report.is_file() and report.stat().st_size > 0
    text = report.read_text(encoding="utf-8")
    pngs = sorted((out / REPORT_DIR).glob("*.png"))
    names = {p.stem for p in pngs}
    assert expected <= names, f"missing charts: {expected - names}"
    for png in pngs:
        assert png.stat().st_size > 0
        shape = open_png(png)
        assert len(shape) >= 2 and shape[0] > 0 and shape[1] > 0
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        assert f'<img src="data:image/png;base64,{data}"' in text, png.name
    assert text.count('<img src="data:image/png;base64,') == len(pngs)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", text, re.IGNORECASE)
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert not list((out / REPORT_DIR).glob(".*.tmp")), "temporary files left behind"
    assert "skipped" not in text, "a chart builder failed on a well-formed folder"
    return text


@pytest.fixture(scope="module")
def compare_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compare")
    variants = root / "variants.yaml"
    variants.write_text(VARIANTS, encoding="utf-8")
    out = root / "out"
    args = ["compare", str(TINY_PATH), "--variants", str(variants), "--reps", "3"]
    assert main([*args, *FAST, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["run", str(TINY_PATH), "--reps", "3", *FAST, "--out", str(out)]) == 0
    return out


def test_compare_report(compare_out: Path) -> None:
    # `compare` writes the report itself (experiments.compare._report)
    text = check_report(
        compare_out,
        {"timeseries_ALL", "timeseries_XA", "differences_forest", "profit_distribution"},
    )
    for needed in ("marketsim compare", "tiny", "net_profit_base", "m40", "USD", "How to read"):
        assert needed in text
    assert text.count("How to read this:") == len(list((compare_out / REPORT_DIR).glob("*.png")))


def test_run_reps_report_via_cli(run_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _report_cli(["report", str(run_out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert Path(printed) == (run_out / REPORT_DIR / REPORT_FILE).resolve()
    text = check_report(run_out, {"timeseries_ALL", "timeseries_XA", "profit_distribution"})
    assert "marketsim run" in text


def test_single_run_report(tmp_path: Path) -> None:
    out = tmp_path / "single"
    assert main(["run", str(TINY_PATH), "--days", "20", "--out", str(out)]) == 0
    stale = out / REPORT_DIR / "old_chart.png"
    stale.parent.mkdir()
    stale.write_bytes(b"not a png")
    assert write_report(out) == (out / REPORT_DIR / REPORT_FILE).resolve()
    assert not stale.exists(), "charts from an earlier report are removed"
    check_report(out, {"timeseries_ALL"})


def _trial_rows(study: optuna.Study, metric_names: list[str]) -> pd.DataFrame:
    """A study's trials in the declared trials.csv layout (scenario label ``tiny``)."""
    params = list(study.trials[0].distributions)
    value_cols = objective_columns(metric_names)
    rows = []
    for t in study.trials:
        values = t.values or [None] * len(metric_names)
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                **dict(zip(value_cols, values, strict=True)),
                **{k: t.params.get(k) for k in params},
                **{f"{m}[tiny]": v for m, v in zip(metric_names, values, strict=True)},
                "baseline": t.number == 0,
                "infeasible": "",
                "last_step": t.last_step,
                "duration_s": 0.1,
                "started": "2026-01-01T00:00:00",
            }
        )
    frame = pd.DataFrame(rows)
    table = trials_table(metric_names)
    assert list(frame.columns) == table.names(metric=metric_names, param=params, scenario=["tiny"])
    return frame


def _tune_folder(out: Path, multi: bool) -> None:
    """A small real Optuna study written in the declared `marketsim tune` layout.

    Single objective: a pruned trial, a categorical parameter, a baseline trial. Multi-objective:
    ``value_<kpi>`` columns and a ``pareto.csv``.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.RandomSampler(seed=3)

    def single(trial: optuna.Trial) -> float:
        markup = trial.suggest_float("pricing.markup", 0.1, 2.0)
        days = trial.suggest_int("retention.offer_days", 7, 60)
        trial.suggest_categorical("selection.name", ["all_products", "top_margin"])
        value = 1000.0 - 800.0 * (markup - 0.9) ** 2 + days
        trial.report(value / 2, 0)
        if trial.number == 3:
            raise optuna.TrialPruned()
        return value

    def double(trial: optuna.Trial) -> tuple[float, float]:
        markup = trial.suggest_float("pricing.markup", 0.1, 2.0)
        spend = trial.suggest_float("marketing.scale", 0.5, 2.0)
        return 1000.0 * markup / (1 + markup**2) * spend, 20.0 * spend + 5 * markup

    out.mkdir(parents=True)
    if multi:
        metric_names = ["net_profit_base", "cac_base"]
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
        study.optimize(double, n_trials=10)
        front = {t.number for t in study.best_trials}
        trials = _trial_rows(study, metric_names)
        trials[trials["number"].isin(front)].to_csv(out / "pareto.csv", index=False)
        importance = [0.7, 0.3]
    else:
        metric_names = ["net_profit_base"]
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.enqueue_trial(
            {"pricing.markup": 0.6, "retention.offer_days": 30, "selection.name": "all_products"}
        )
        study.optimize(single, n_trials=8)
        trials = _trial_rows(study, metric_names)
        importance = [0.6, 0.3, 0.1]
    trials.to_csv(out / "trials.csv", index=False)
    dists = study.trials[0].distributions
    pd.DataFrame(
        {"objective": metric_names[0], "param": list(dists), "importance": importance}
    ).to_csv(out / "importance.csv", index=False)
    directions = [d.name.lower() for d in study.directions]
    best = study.best_trials[0]
    summary = {
        "command": "tune",
        "reps": 2,
        "robust": "mean",
        "scenarios": [{"index": 0, "file": str(TINY_PATH), "name": "tiny", "label": "tiny"}],
        "objectives": [
            {"kpi": k, "direction": d} for k, d in zip(metric_names, directions, strict=True)
        ],
        "metric_names": metric_names,
        "search_space": {k: distribution_to_json(d) for k, d in dists.items()},
        "best": {
            "number": best.number,
            "values": dict(zip(metric_names, best.values, strict=True)),
            "params": best.params,
        },
        "baseline": {
            "number": 0,
            "state": "COMPLETE",
            "values": dict(zip(metric_names, study.trials[0].values, strict=True)),
        },
        "importance_skipped": None,
    }
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


def test_tune_report(tmp_path: Path) -> None:
    out = tmp_path / "tune"
    _tune_folder(out, multi=False)
    write_report(out)
    text = check_report(out, {"tuning_history", "parameter_importance", "tuning_slices"})
    assert not (out / REPORT_DIR / "pareto_front.png").exists()
    assert "pricing.markup" in text and "USD" in text


def test_multi_objective_tune_report(tmp_path: Path) -> None:
    out = tmp_path / "tune_mo"
    _tune_folder(out, multi=True)
    write_report(out)
    check_report(out, {"tuning_history", "parameter_importance", "pareto_front"})


def _entry_folder(out: Path) -> None:
    """An `entry` folder in the declared layout: options, replications and time series."""
    out.mkdir(parents=True)
    rng = np.random.default_rng(5)
    options = ["direct_air", "local_wh", "A<b>&x"]
    reps, ts = [], []
    for i, opt in enumerate(options):
        npv = rng.normal(5000.0 * (i - 0.5), 2000.0 * (i + 1), size=12)
        reps += [
            {
                "option": opt,
                "rep": k,
                "net_profit_base": v * 1.1,
                "npv_base": v,
                "npv_with_equity_base": v + 900.0,
                "customer_equity_base": 800.0,
                "inventory_value_base": 100.0,
                "payback_month": 7.0,
                "market_share_end": 0.05,
            }
            for k, v in enumerate(npv)
        ]
        days = np.arange(30)
        for region in ("ALL", "XA"):
            mean = np.cumsum(rng.normal(100.0 * i, 50.0, size=30))
            ts.append(
                pd.DataFrame(
                    {
                        "option": opt,
                        "region": region,
                        "kpi": "net_profit_base_cumulative",
                        "day": days,
                        "mean": mean,
                        "low": mean - 200.0,
                        "high": mean + 200.0,
                    }
                )
            )
    reps_df = pd.DataFrame(reps)
    rows = []
    for opt, g in reps_df.groupby("option", sort=False):
        x, profit = g["npv_base"].to_numpy(), g["net_profit_base"].to_numpy()
        half = 2 * x.std() / np.sqrt(len(x))
        rows.append(
            {
                "option": opt,
                "regions": "XA@m0",
                "npv_mean": x.mean(),
                "npv_low": x.mean() - half,
                "npv_high": x.mean() + half,
                "npv_sd": x.std(),
                "npv_with_equity_mean": x.mean() + 900.0,
                "npv_with_equity_low": x.mean() + 900.0 - half,
                "npv_with_equity_high": x.mean() + 900.0 + half,
                "customer_equity_mean": 800.0,
                "inventory_value_mean": 100.0,
                "profit_mean": profit.mean(),
                "profit_low": profit.mean() - half,
                "profit_high": profit.mean() + half,
                "payback_month": 7.0,
                "payback_month_median": 7.0,
                "p_loss": float((profit < 0).mean()),
                "p_loss_low": 0.0,
                "p_loss_high": 1.0,
                "cvar5_profit": float(np.sort(profit)[0]),
                "market_share_mean": 0.05,
                "reps": len(x),
            }
        )
    table = pd.DataFrame(rows).sort_values("npv_mean", ascending=False)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    declared = outputs_of("entry")
    for name, frame in [
        ("options.csv", table),
        ("replications.csv", reps_df),
        ("timeseries.csv", pd.concat(ts)),
    ]:
        assert list(frame.columns) == declared.table(name).names()
        frame.to_csv(out / name, index=False)
    summary = {"command": "entry", "scenario": "tiny", "reps": 12, "discount_rate_annual": 0.1}
    (out / "summary.json").write_text(json.dumps(summary | {"currency": "EUR"}), encoding="utf-8")


def test_entry_report(tmp_path: Path) -> None:
    out = tmp_path / "entry"
    _entry_folder(out)
    write_report(out)
    text = check_report(
        out,
        {"entry_risk_return", "npv_distribution", "profit_distribution", "timeseries_ALL"},
    )
    assert "A&lt;b&gt;&amp;x" in text and "A<b>&x" not in text, "names are HTML-escaped"
    assert "EUR" in text


def _report_cli(argv: list[str]) -> int:
    return main(argv)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no summary.json"),
        ("{not json", "not valid JSON"),
        ('["a list"]', "not a marketsim summary"),
        ('{"command": "calibrate"}', "not a marketsim result summary"),
        ('{"hello": 1}', "not a marketsim result summary"),
    ],
)
def test_not_an_output_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "summary.json").write_text(content, encoding="utf-8")
    assert _report_cli(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / REPORT_DIR).exists(), "nothing written for a bad folder"


def test_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _report_cli(["report", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_tune_folder_from_an_older_version_gets_a_note(tmp_path: Path) -> None:
    out = tmp_path / "tune_old"
    _tune_folder(out, multi=False)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    del summary["metric_names"], summary["search_space"]
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    text = write_report(out).read_text(encoding="utf-8")
    assert "written by an older marketsim" in text
    assert not list((out / REPORT_DIR).glob("*.png"))
    assert "Trials (best first)" in text


def test_malformed_table_exits_2_naming_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "entry"
    _entry_folder(out)
    options = pd.read_csv(out / "options.csv").drop(columns="npv_low")
    options.to_csv(out / "options.csv", index=False)
    assert _report_cli(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "options.csv: missing column(s) ['npv_low']" in err
    assert not (out / REPORT_DIR).exists()


def test_optional_file_absent_leaves_its_section_out(tmp_path: Path) -> None:
    out = tmp_path / "entry"
    _entry_folder(out)
    (out / "timeseries.csv").unlink()
    write_report(out)
    check_report(out, {"entry_risk_return", "npv_distribution"})
    assert not (out / REPORT_DIR / "timeseries_ALL.png").exists()


def test_build_report_writes_nothing_and_bad_search_space_is_a_data_error(tmp_path: Path) -> None:
    from experiments.report import build_report
    from sim.errors import DataError

    out = tmp_path / "tune"
    _tune_folder(out, multi=False)
    report = build_report(out)
    assert not (out / REPORT_DIR).exists()
    assert {c.name for c in report.charts} >= {"tuning_history", "tuning_slices"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["search_space"] = {"pricing.markup": 0.5}
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(DataError, match="search_space"):
        build_report(out)
