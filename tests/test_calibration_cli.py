"""Calibration end to end: model -> transaction export -> BG/NBD fit; CLI errors exit 2."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.cli import main

ROOT = Path(__file__).resolve().parents[1]
TRUE = {"r": 0.8, "alpha": 50.0, "a": 1.5, "b": 6.0}


def monopoly_scenario(tmp_path: Path, population: int = 30_000) -> Path:
    """A monopolist with a BG/NBD launch cohort: every occasion is a purchase from us."""
    data = yaml.safe_load((ROOT / "scenarios" / "tiny.yaml").read_text())
    data = copy.deepcopy(data)
    region = data["regions"][0]
    region["population"] = population
    region["awareness"]["initial_share"] = 1.0
    region["repeat"] = {
        "r": TRUE["r"],
        "alpha_days": TRUE["alpha"],
        "a": TRUE["a"],
        "b": TRUE["b"],
        "launch_cohort": True,
    }
    region["choice"]["outside_utility"] = -50.0  # nobody walks away
    region["fx"]["daily_volatility"] = 0.0
    region["service"] = {"dissatisfaction_dropout_uplift": 0.0}
    data["competitors"] = []
    data["horizon_days"] = 365
    data["products"] = data["products"][:1]
    data["firm"]["warehouses"][0]["initial_units"] = 10_000_000
    path = tmp_path / "monopoly.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_bgnbd_parameters_recovered_through_the_model(tmp_path: Path) -> None:
    """Simulate a known BG/NBD population, export transactions, calibrate: each parameter
    within 10% (30,000 customers, 365 days; the daily log merges same-day occasions, which
    is the only known bias and is small at these purchase rates)."""
    scenario = monopoly_scenario(tmp_path)
    tx = tmp_path / "tx.csv"
    assert (
        main(["run", str(scenario), "--out", str(tmp_path / "run"), "--transactions", str(tx)]) == 0
    )
    log = pd.read_csv(tx)
    assert list(log.columns) == [
        "customer_id",
        "region",
        "date",
        "product",
        "quantity",
        "amount_base",
    ]
    assert log["customer_id"].nunique() == 30_000  # everyone bought on day 0
    out = tmp_path / "cal"
    assert main(["calibrate", "transactions", str(tx), "--period", "D", "--out", str(out)]) == 0
    fit = json.loads((out / "fit.json").read_text())
    for name, true in TRUE.items():
        est = fit["params"][name]
        assert abs(est - true) / true < 0.10, f"{name}: estimated {est:.4f}, true {true}"
    fragment = yaml.safe_load((out / "repeat_fragment.yaml").read_text())
    assert fragment["repeat"]["alpha_days"] == pytest.approx(fit["params"]["alpha"])


def test_weekly_period_and_holdout(tmp_path: Path) -> None:
    """With a calibration end inside the log, a holdout check and its plot are written."""
    scenario = monopoly_scenario(tmp_path, population=5_000)
    tx = tmp_path / "tx.csv"
    assert (
        main(["run", str(scenario), "--out", str(tmp_path / "run"), "--transactions", str(tx)]) == 0
    )
    out = tmp_path / "cal"
    code = main(
        ["calibrate", "transactions", str(tx), "--calibration-end", "2026-09-30", "--out", str(out)]
    )
    assert code == 0
    fit = json.loads((out / "fit.json").read_text())
    assert fit["period"] == "W"
    hold = fit["holdout"]
    assert hold["actual_repeat_purchases"] > 0
    rel = abs(hold["predicted_repeat_purchases"] / hold["actual_repeat_purchases"] - 1)
    assert rel < 0.15, f"holdout predicted vs actual off by {rel:.1%}"
    assert (out / "cumulative.png").stat().st_size > 1000
    assert (out / "holdout_by_frequency.csv").exists()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("", [], "empty"),
        ("customer_id,when\n1,2026-01-01\n", [], "missing column"),
        ("customer_id,date\n1,not-a-date\n2,2026-01-02\n", [], "not dates"),
        ("customer_id,date\n1,2026-01-01\n2,2026-01-02\n", [], "no repeat buyers"),
        ("customer_id,date\n1,01/02/2026\n", ["--date-format", "%Y-%m-%d"], "not dates"),
    ],
)
def test_bad_transaction_files_exit_2(tmp_path, capsys, content, args, message) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["calibrate", "transactions", str(path), *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o" / "fit.json").exists()


def test_demand_cli_recovers_logit(tmp_path: Path) -> None:
    """Shares generated from known alpha and beta are estimated back within 5%."""
    rng = np.random.default_rng(3)
    alpha, beta_q = 1.2, 2.0
    rows = []
    for m in range(150):
        price = rng.uniform(1.0, 4.0, 4)
        quality = rng.uniform(0.0, 1.0, 4)
        v = beta_q * quality - alpha * price + rng.normal(0, 0.05, 4)
        shares = np.exp(v) / (1.0 + np.exp(v).sum())
        for j in range(4):
            rows.append((m, j, price[j], shares[j], quality[j]))
    csv = tmp_path / "shares.csv"
    pd.DataFrame(rows, columns=["market", "product", "price", "share", "quality"]).to_csv(csv)
    out = tmp_path / "demand"
    assert (
        main(["calibrate", "demand", str(csv), "--characteristics", "quality", "--out", str(out)])
        == 0
    )
    fit = json.loads((out / "fit.json").read_text())
    assert abs(fit["alpha"] / alpha - 1) < 0.05
    assert abs(fit["betas"]["quality"] / beta_q - 1) < 0.05
    fragment = yaml.safe_load((out / "demand_fragment.yaml").read_text())
    assert fragment["price_sensitivity"]["mean"] == pytest.approx(fit["alpha"])
