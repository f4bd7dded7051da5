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
        "payment_method",
        "status",
        "delivery_days",
        "late_days",
        "returned",
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


# --------------------------------------------------------------------------- library vs CLI
def small_log(path: Path, n: int = 400, seed: int = 5) -> pd.DataFrame:
    """A BG/NBD transaction log (rate ~ Gamma(0.8, 20 days), dropout ~ Beta(1.5, 4)) of
    customers entering in January, observed to mid-July; written to ``path`` as a CSV."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        day = float(rng.integers(0, 31))
        rate, dropout = rng.gamma(0.8, 1 / 20), rng.beta(1.5, 4.0)
        while day < 200:
            rows.append((f"c{c}", int(day), round(float(rng.uniform(5, 50)), 2)))
            if len(rows) > 1 and rows[-2][0] == rows[-1][0] and rng.random() < dropout:
                break
            day += rng.exponential(1 / rate)
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    days = pd.to_timedelta(frame.pop("day"), unit="D")
    frame["date"] = (pd.Timestamp("2026-01-01") + days).dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)
    return frame


def test_python_function_and_cli_give_the_same_fit(tmp_path: Path, monkeypatch) -> None:
    """`calibrate_transactions` returns what the CLI writes, and writes nothing itself."""
    from experiments.calibration import TransactionsCalibration, calibrate_transactions

    csv = tmp_path / "tx.csv"
    frame = small_log(csv)
    monkeypatch.chdir(tmp_path)
    options = {"amount_col": "amount", "calibration_end": "2026-04-30", "period": "W"}
    result = calibrate_transactions(str(csv), **options)
    assert isinstance(result, TransactionsCalibration)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tx.csv"]  # nothing written
    out = tmp_path / "cli"
    argv = ["--amount-col", "amount", "--calibration-end", "2026-04-30", "--period", "W"]
    assert main(["calibrate", "transactions", str(csv), *argv, "--out", str(out)]) == 0
    assert json.loads((out / "fit.json").read_text()) == result.to_dict()
    assert (out / "repeat_fragment.yaml").read_text() == result.fragment_yaml()
    assert result.holdout_by_frequency is not None and result.cumulative is not None
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "holdout_by_frequency.csv"),
        result.holdout_by_frequency.reset_index(),
        check_dtype=False,
    )
    assert result.fit.converged and result.n_repeat_buyers > 0
    assert result.scenario_fragment["repeat"]["alpha_days"] == pytest.approx(
        7 * result.params.alpha
    )

    # a DataFrame source gives the same fit; write() writes the CLI's files
    same = calibrate_transactions(frame, **options)
    assert same.fit == result.fit
    written = same.write(tmp_path / "lib")
    assert sorted(p.name for p in written) == sorted(p.name for p in out.iterdir())


def test_demand_function_and_cli_give_the_same_fit(tmp_path: Path) -> None:
    from experiments.calibration import calibrate_demand

    rng = np.random.default_rng(8)
    rows = []
    for m in range(40):
        price, quality = rng.uniform(1.0, 4.0, 3), rng.uniform(0.0, 1.0, 3)
        v = quality - price + rng.normal(0, 0.1, 3)
        shares = np.exp(v) / (1.0 + np.exp(v).sum())
        rows += [(m, j, price[j], shares[j], quality[j]) for j in range(3)]
    csv = tmp_path / "shares.csv"
    pd.DataFrame(rows, columns=["market", "product", "price", "share", "quality"]).to_csv(csv)
    result = calibrate_demand(csv, characteristics=["quality"])
    assert calibrate_demand(csv, characteristics="quality").fit == result.fit
    out = tmp_path / "demand"
    argv = ["calibrate", "demand", str(csv), "--characteristics", "quality", "--out", str(out)]
    assert main(argv) == 0
    cli = json.loads((out / "fit.json").read_text())
    assert {k: v for k, v in cli.items() if k != "file"} == {
        k: v for k, v in result.to_dict().items() if k != "file"
    }
    assert (out / "demand_fragment.yaml").read_text() == result.fragment_yaml()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount-col", "customer_id"], "column 'customer_id' must hold numbers"),
        (["--calibration-end", "someday"], "`calibration_end` must be a date"),
        (["--period", "M"], "`period` must be one of ['D', 'W']"),
        (["--customer-col", "buyer"], "missing column(s) ['buyer']"),
    ],
)
def test_bad_transaction_arguments_exit_2(tmp_path, capsys, args, message) -> None:
    csv = tmp_path / "tx.csv"
    small_log(csv, n=20)
    assert main(["calibrate", "transactions", str(csv), *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_input_errors_are_data_errors_naming_file_and_column(tmp_path: Path) -> None:
    from experiments.calibration import (
        CalibrationInputError,
        calibrate_demand,
        calibrate_transactions,
    )
    from sim.errors import DataError

    assert issubclass(CalibrationInputError, DataError)
    csv = tmp_path / "tx.csv"
    csv.write_text("customer_id,date\n1,2026-01-01\n,2026-01-02\n1,2026-01-05\n")
    with pytest.raises(CalibrationInputError, match=r"tx\.csv: column 'customer_id' has 1 missing"):
        calibrate_transactions(csv)
    shares = tmp_path / "shares.csv"
    shares.write_text("market,product,price,share\n1,a,cheap,0.2\n1,b,2.0,0.3\n2,a,1.0,0.1\n")
    with pytest.raises(CalibrationInputError, match=r"shares\.csv: price column\(s\) \['price'\]"):
        calibrate_demand(shares)


def test_time_zones_and_times_of_day_in_the_log(tmp_path: Path) -> None:
    """A tz-aware log takes a naive calibration end as local; a last purchase later on the
    calibration end's own day is not a holdout."""
    from experiments.calibration import calibrate_transactions

    frame = small_log(tmp_path / "tx.csv")
    aware = frame.assign(date=pd.to_datetime(frame["date"]).dt.tz_localize("UTC"))
    naive = calibrate_transactions(frame, calibration_end="2026-04-30")
    assert calibrate_transactions(aware, calibration_end="2026-04-30").fit == naive.fit
    last = pd.to_datetime(frame["date"]).max()
    timed = frame.assign(date=pd.to_datetime(frame["date"]) + pd.Timedelta(hours=12))
    result = calibrate_transactions(timed, calibration_end=str(last.date()))
    assert result.holdout is None


def test_readme_calibration_example_runs_as_written(tmp_path: Path, monkeypatch) -> None:
    """The Python block of the README's "Calibrating from your own data" section runs."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Calibrating from your own data", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    small_log(tmp_path / "orders.csv")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "results" / "calib" / "cumulative.png").exists()
    assert len(namespace["next_13_weeks"]) == len(namespace["s"])


# --- issue 15: every calibration input is total; fits say when they failed ---------------

TX_HEAD = "customer_id,date,amount\n"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (
            TX_HEAD + "c1,2026-01-01,5\n,2026-01-03,6\nc2,2026-01-02,7\n",
            [],
            "column 'customer_id' has 1 missing or empty value(s) (first at row 2)",
        ),
        (
            TX_HEAD + "c1,2026-01-01,5\n   ,2026-01-03,6\nc2,2026-01-02,7\n",
            [],
            "column 'customer_id' has 1 missing or empty value(s) (first at row 2)",
        ),
        (
            TX_HEAD + "c1,2026-01-01,5\nc1,2026-01-03,abc\nc2,2026-01-02,7\n",
            ["--amount-col", "amount"],
            "column 'amount' must hold numbers: 1 value(s) are missing, not numbers or not "
            "finite (first at row 2: 'abc')",
        ),
        (
            TX_HEAD + "c1,2026-01-01,5\nc1,2026-01-03,1e999\n",
            ["--amount-col", "amount"],
            "column 'amount' must hold numbers",
        ),
        (
            TX_HEAD + "c1,2026-01-01T10:00+01:00,5\nc1,2026-01-03T10:00+02:00,6\n",
            [],
            "column 'date' mixes time zones: row 1 '2026-01-01T10:00+01:00' and row 2",
        ),
        (
            TX_HEAD + "c1,2026-01-01,5\nc1,2026-01-03T10:00+02:00,6\n",
            [],
            "column 'date' mixes time zones",
        ),
        (
            TX_HEAD + "c1,2026-01-01,5\nc1,2026-01-03,6\nc1,2026-02-03,6\n",
            [],
            "the BG/NBD fit did not converge",
        ),
    ],
    ids=[
        "empty-id",
        "blank-id",
        "text-amount",
        "inf-amount",
        "mixed-offsets",
        "naive-aware",
        "one",
    ],
)
def test_bad_transaction_logs_are_data_errors_with_file_column_row(
    tmp_path, capsys, content, args, message
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(content)
    out = tmp_path / "o"
    assert main(["calibrate", "transactions", str(path), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "log.csv" in err and message in err and "Traceback" not in err
    assert not out.exists()


def test_transaction_log_over_the_row_limit_is_refused_unread(tmp_path, capsys, monkeypatch):
    from experiments.calibration import inputs

    path = tmp_path / "big.csv"
    small_log(path, n=20)
    read = []
    real = pd.read_csv
    monkeypatch.setattr(inputs, "MAX_ROWS", 5)
    monkeypatch.setattr(
        inputs.pd, "read_csv", lambda *a, **k: read.append(k) or real(*a, **k), raising=True
    )
    assert main(["calibrate", "transactions", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "big.csv: more than 5 rows" in capsys.readouterr().err
    assert read == [{"nrows": 6}]  # never more than one row past the limit
    with pytest.raises(inputs.CalibrationInputError, match="<DataFrame>: more than 5 rows"):
        inputs.read_table(real(path), ["customer_id"])


def test_degenerate_fit_raises_and_writes_nothing(tmp_path: Path) -> None:
    """One customer: alpha runs to 3.3 million at the box; the library raises, saying why
    and what data would help; a fit forced through ``write`` is refused too."""
    import dataclasses

    from experiments.calibration import CalibrationInputError, calibrate_transactions, fit_bgnbd

    fit = fit_bgnbd([3], [8.8], [8.8])
    assert not fit.converged and fit.problems
    assert "bounds" in " ".join(fit.problems)
    frame = pd.DataFrame(
        {
            "customer_id": ["c1"] * 4,
            "date": ["2024-01-01", "2024-01-03", "2024-02-03", "2024-03-03"],
        }
    )
    with pytest.raises(CalibrationInputError, match=r"did not converge.*more customers"):
        calibrate_transactions(frame)
    good = calibrate_transactions(small_log(tmp_path / "tx.csv", n=60))
    assert good.fit.converged and good.fit.problems == ()
    bad = dataclasses.replace(
        good, fit=dataclasses.replace(good.fit, converged=False, problems=("made up",))
    )
    with pytest.raises(CalibrationInputError, match="made up"):
        bad.write(tmp_path / "out")
    assert not (tmp_path / "out").exists()


DEMAND_HEAD = "market,product,price,share,quality\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (DEMAND_HEAD + "1,a,1,0.2,1\n1,b,2,0.3,1\n", "need more observations (2) than"),
        (
            DEMAND_HEAD
            + "1,a,1,0.2,2\n1,b,2,0.3,4\n2,a,1.5,0.1,3\n2,b,2.5,0.2,5\n3,a,1.2,0.3,2.4\n",
            "rank deficient",
        ),
        (
            DEMAND_HEAD + "1,a,1e155,0.2,1\n1,b,2e155,0.3,2\n2,a,1.5e155,0.1,1\n2,b,3e155,0.2,3\n",
            "rank deficient",  # badly scaled columns are refused before anything overflows
        ),
        (DEMAND_HEAD + "1,a,1,0.2,1\n1,b,inf,0.3,2\n2,a,1,0.1,1\n", "non-finite"),
    ],
    ids=["too-few-rows", "singular", "badly-scaled", "inf-price"],
)
def test_failed_demand_fits_exit_2_and_write_nothing(tmp_path, capsys, content, message) -> None:
    path = tmp_path / "shares.csv"
    path.write_text(content)
    out = tmp_path / "o"
    argv = ["calibrate", "demand", str(path), "--characteristics", "quality", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "shares.csv" in err and message in err and "Traceback" not in err
    assert not out.exists()


def test_calibrate_out_folder_is_owned(tmp_path: Path, capsys) -> None:
    """calibrate writes only into a new folder or its own earlier results (--force replaces)."""
    csv = tmp_path / "tx.csv"
    small_log(csv)
    argv = ["calibrate", "transactions", str(csv), "--calibration-end", "2026-04-30"]
    out = tmp_path / "calib"
    assert main([*argv, "--out", str(out)]) == 0
    assert main([*argv, "--out", str(out)]) == 0  # a rerun into its own folder
    assert not (out / ".marketsim.lock").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    capsys.readouterr()
    assert main([*argv, "--out", str(other)]) == 2
    assert "other files (notes.txt)" in capsys.readouterr().err
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    demand = ["calibrate", "demand", str(csv), "--out", str(out)]
    assert main(demand) == 2  # a transactions folder is not a demand folder
    assert "calibrate transactions" in capsys.readouterr().err
    assert main([*argv, "--out", str(other), "--force"]) == 0
    assert (other / "fit.json").is_file() and not (other / "notes.txt").exists()
