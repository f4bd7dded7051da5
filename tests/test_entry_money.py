"""Entry money: NPV on 12 calendar months a year, payback on calendar months, the NPV with
terminal customer equity, shares' CIs inside [0, 1], profit plus equity as an objective."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import marketsim as ms
from experiments.cli import main
from experiments.entry import evaluate_option
from experiments.stats import (
    bounded_ci,
    kpi_ci,
    monthly_cash_flows,
    npv,
    payback_month,
    wilson_interval,
)
from sim.calendar import MONTH_LENGTH_DAYS, calendar_month, month_start_day
from tests.helpers import TINY_PATH, VARIANTS

ROOT = Path(__file__).resolve().parents[1]


def _cash_frame(daily_flow: np.ndarray, opening: float = 1000.0) -> pd.DataFrame:
    """A KPI table with only the ALL rows a cash NPV needs."""
    days = np.arange(len(daily_flow))
    return pd.DataFrame(
        {
            "day": days,
            "region": "ALL",
            "cash_base": opening + np.cumsum(daily_flow),
            "net_profit_base": daily_flow,
            "customer_equity_base": np.where(days == days[-1], 500.0, np.nan),
            "inventory_value_base": 100.0,
            "units": 0.0,
            "market_units": 0.0,
        }
    )


def test_a_flat_cash_flow_for_365_days_gives_12_calendar_months() -> None:
    monthly = monthly_cash_flows(_cash_frame(np.ones(365)), 1000.0)
    assert len(monthly) == 12
    assert monthly.tolist() == list(MONTH_LENGTH_DAYS)
    assert npv(monthly, 0.0) == pytest.approx(365.0)
    # three years: 36 months, January of year two starts on day 365
    assert len(monthly_cash_flows(_cash_frame(np.ones(1095)), 1000.0)) == 36
    assert month_start_day(12) == 365 and calendar_month(364) == 11 and calendar_month(365) == 12
    assert [month_start_day(m) for m in range(3)] == [0, 31, 59]


def test_payback_counts_calendar_months() -> None:
    """-59 on day 0, then +1 a day: cumulative cash is -1 at the end of February (day 58) and
    0 on 1 March (day 59), so payback is month 3 (March); 30-day months would say month 2
    (days 30-59). With -58 it is month 2: cumulative is 0 on 28 February."""
    flow = np.ones(365)
    flow[0] = -59.0
    assert payback_month(monthly_cash_flows(_cash_frame(flow), 1000.0)) == 3.0
    flow[0] = -58.0
    assert payback_month(monthly_cash_flows(_cash_frame(flow), 1000.0)) == 2.0


def test_npv_with_equity_adds_the_discounted_terminal_value() -> None:
    frame = _cash_frame(np.ones(365))
    per_rep, summary = evaluate_option({0: frame, 1: frame}, [], 0.10, 1000.0)
    cash = npv(monthly_cash_flows(frame, 1000.0), 0.10)
    assert per_rep["npv_base"].tolist() == pytest.approx([cash, cash])
    assert per_rep["npv_with_equity_base"].tolist() == pytest.approx([cash + 600.0 / 1.1] * 2)
    assert summary["npv_with_equity_mean"] == pytest.approx(cash + 600.0 / 1.1)
    assert summary["p_loss"] == 0.0 and summary["p_loss_low"] == 0.0
    assert 0.0 < summary["p_loss_high"] < 1.0


def test_share_and_rate_confidence_intervals_stay_in_range() -> None:
    """Logit (shares) and log (rates) scales keep CIs in range where Student-t leaves it."""
    small = np.array([0.01, 0.0, 0.02, 0.0])
    assert kpi_ci("market_share", small)["low"] > 0.0
    assert kpi_ci("net_profit_base", small)["low"] < 0.0  # not a share: plain Student-t
    high = kpi_ci("fill_rate", np.array([1.0, 0.97, 1.0, 0.99]))
    assert high["low"] <= high["mean"] <= high["high"] < 1.0
    assert kpi_ci("churn_rate_annual", np.array([0.0, 0.01, 0.0]))["low"] > 0.0
    assert bounded_ci(np.ones(5), "share") | {"sd": 0.0} == {
        "mean": 1.0,
        "sd": 0.0,
        "half_width": 0.0,
        "low": 1.0,
        "high": 1.0,
        "n": 5,
    }
    for k, n in ((0, 10), (3, 10), (10, 10), (1, 2)):
        low, high = wilson_interval(k, n)
        assert 0.0 <= low <= k / n <= high <= 1.0


def test_share_cis_printed_by_replications_stay_in_range() -> None:
    reps = ms.replicate(TINY_PATH, reps=3, days=30, workers=1)
    shares = reps.summary[reps.summary["kpi"].isin(["market_share", "return_rate", "fill_rate"])]
    bounds = shares[["low", "high"]].dropna().to_numpy()
    assert len(bounds) and ((bounds >= 0.0) & (bounds <= 1.0)).all()
    assert list(reps.horizon["region"]) == ["XA", "ALL"]
    assert np.isfinite(reps.horizon["customer_equity_base"]).all()


def test_profit_plus_equity_is_an_objective_in_compare_and_tune(tmp_path: Path) -> None:
    variants = tmp_path / "variants.yaml"
    variants.write_text(VARIANTS)
    cmp = ms.compare(TINY_PATH, variants, kpi="profit_plus_equity_base", reps=2, days=30, workers=1)
    assert cmp.ranking["mean"].notna().all()
    per = cmp.per_rep[cmp.per_rep["region"] == "ALL"]
    expected = per.groupby("variant", sort=False)["profit_plus_equity_base"].mean()
    assert dict(zip(cmp.ranking["variant"], cmp.ranking["mean"], strict=True)) == pytest.approx(
        expected.to_dict()
    )
    assert (
        main(
            [
                "tune",
                str(TINY_PATH),
                "--trials",
                "2",
                "--reps",
                "1",
                "--days",
                "30",
                "--objective",
                "profit_plus_equity_base",
                "--workers",
                "1",
                "--out",
                str(tmp_path / "tune"),
            ]
        )
        == 0
    )
    trials = pd.read_csv(tmp_path / "tune" / "trials.csv")
    assert trials["value"].notna().all()


def test_entry_days_override(tmp_path: Path) -> None:
    options = tmp_path / "options.yaml"
    options.write_text(
        f"scenario: {TINY_PATH}\nreps: 2\nhorizon_days: 90\noptions:\n"
        "  - name: now\n    regions: [{region: XA, entry_month: 0}]\n"
    )
    result = ms.rank_entry_options(options, days=40, workers=1)
    assert result.days == 40
    assert (result.per_rep["npv_with_equity_base"] != result.per_rep["npv_base"]).all()
    out = tmp_path / "out"
    assert main(["entry", str(options), "--days", "31", "--workers", "1", "--out", str(out)]) == 0
    assert pd.read_csv(out / "options.csv")["reps"].tolist() == [2]
