"""`marketsim entry`: options ranked by NPV with risk measures; bad option files exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.stats import cvar, npv, payback_month

ROOT = Path(__file__).resolve().parents[1]

OPTIONS = f"""
scenario: {ROOT / "scenarios" / "tiny.yaml"}
discount_rate_annual: 0.12
reps: 3
horizon_days: 60
options:
  - name: now
    regions: [{{region: XA, entry_month: 0}}]
  - name: later
    regions: [{{region: XA, entry_month: 1}}]
"""


def test_entry_ranks_options(tmp_path: Path) -> None:
    options = tmp_path / "options.yaml"
    options.write_text(OPTIONS)
    out = tmp_path / "out"
    assert main(["entry", str(options), "--workers", "1", "--out", str(out)]) == 0
    table = pd.read_csv(out / "options.csv")
    assert list(table["rank"]) == [1, 2]
    assert table["npv_mean"].is_monotonic_decreasing
    assert table["p_loss"].between(0, 1).all()
    per_rep = pd.read_csv(out / "replications.csv")
    assert len(per_rep) == 6
    # entering a month later means no sales in the first 30 days of that option
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    later = next(v for v in runs.values() if v["variant"] == "later")
    daily = pd.read_parquet(out / later["file"])
    first_month = daily[(daily["region"] == "XA") & (daily["day"] < 30)]
    assert first_month["units"].sum() == 0 and first_month["marketing_base"].sum() == 0
    after = daily[(daily["region"] == "XA") & (daily["day"] >= 31)]
    assert after["units"].sum() > 0
    assert (out / "report" / "report.html").exists()


def test_risk_measures() -> None:
    assert npv(np.array([100.0] * 12), 0.0) == pytest.approx(1200.0)
    assert npv(np.array([0.0, 110.0]), 1.0) < 110.0
    assert payback_month(np.array([-10.0, 5.0, 5.0, 1.0])) == 3.0
    assert payback_month(np.array([5.0, 1.0])) == 1.0
    assert np.isnan(payback_month(np.array([-10.0, 1.0])))
    assert cvar(np.arange(100.0), 0.05) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            OPTIONS.replace("region: XA, entry_month: 1", "region: XZ, entry_month: 1"),
            "options[1].regions[0].region",
        ),
        (OPTIONS.split("options:")[0] + "options: []\n", "empty"),
        (OPTIONS.replace("entry_month: 1", "entry_month: -3"), "entry_month"),
        (OPTIONS.replace("name: later", "name: now"), "duplicate"),
        (
            OPTIONS.replace(
                "regions: [{region: XA, entry_month: 0}]",
                "regions: [{region: XA, fulfilment: local_warehouse}]",
            ),
            "local_warehouse",
        ),
        ("options: {", "invalid YAML"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, text, message) -> None:
    options = tmp_path / "options.yaml"
    options.write_text(text)
    out = tmp_path / "out"
    assert main(["entry", str(options), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (out / "summary.json").exists()
