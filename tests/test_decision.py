"""The decision layer without a browser: P(best) vs ranking, verdicts, headlines, waterfalls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import marketsim as ms
from experiments.report.decision import (
    compare_headline,
    entry_headline,
    verdict,
    waterfall,
)
from experiments.stats import probability_best, ranking

ROOT = Path(__file__).resolve().parent.parent


def per_rep(values: dict[str, list[float]], kpi: str = "net_profit_base") -> pd.DataFrame:
    rows = [
        {"variant": v, "rep": k, "region": "ALL", kpi: x}
        for v, xs in values.items()
        for k, x in enumerate(xs)
    ]
    return pd.DataFrame(rows)


def test_p_best_agrees_with_the_ranking_by_mean() -> None:
    # the pattern: `a` wins one replication by a lot, `b` two by a little. Counting
    # wins per replication gave rank 1 (`a`) 0.33 and rank 2 (`b`) 0.67.
    data = per_rep({"a": [10.0, 1.0, 1.0], "b": [2.0, 2.0, 2.0]})
    table = ranking(data, "net_profit_base")
    assert list(table["variant"]) == ["a", "b"]
    assert table["p_best"].iloc[0] > table["p_best"].iloc[1]
    assert table["p_best"].iloc[0] == pytest.approx(1 - (2 / 3) ** 3, abs=0.03)
    assert table["p_best"].sum() == pytest.approx(1.0)


def test_p_best_is_one_for_a_variant_best_in_every_replication() -> None:
    data = per_rep({"a": [3.0, 5.0, 4.0], "b": [1.0, 2.0, 3.0], "c": [0.0, 0.0, 0.0]})
    p = probability_best(data, "net_profit_base")
    assert p["a"] == 1.0 and p["b"] == 0.0 and p["c"] == 0.0
    # smaller is better for a cost KPI: the direction flips
    costs = per_rep({"a": [3.0, 5.0, 4.0], "b": [1.0, 2.0, 3.0]}, "freight_base")
    assert probability_best(costs, "freight_base")["b"] == 1.0


def test_verdict_numbers_and_sentence() -> None:
    data = per_rep({"base": [100.0, 200.0, 300.0, 400.0], "v": [150.0, 240.0, 370.0, 430.0]})
    v = verdict(data, "v", "base", "net_profit_base", days=73, currency="USD")
    diffs = np.array([50.0, 40.0, 70.0, 30.0]) * 5  # 365 / 73 days = 5 horizons a year
    assert v.gain_mean == pytest.approx(diffs.mean())
    assert v.share_better == 1.0 and v.reps == 4 and v.clear
    assert v.text().startswith(f"v beats base by USD {diffs.mean():,.0f} ± ")
    assert "per year on net profit (95% CI); better in 100% of 4 paired replications." in v.text()
    worse = verdict(data, "base", "v", "net_profit_base", days=365, currency="USD")
    assert worse.text().startswith("base trails v by USD 48 ± ")


def test_headline_names_the_leader_its_p_best_and_the_runner_up() -> None:
    data = per_rep({"base": [0.0, 1.0, 2.0], "x": [10.0, 11.0, 13.0], "y": [9.0, 12.0, 12.5]})
    table = ranking(data, "net_profit_base")
    head = compare_headline(data, table, "base", "net_profit_base", days=365, currency="EUR")
    assert head.recommendation.startswith("Recommended: x. x beats base by EUR 10 ± ")
    assert head.sure.startswith(f"P(best) of x: {table['p_best'].iloc[0]:.0%} over 3")
    assert "runner-up y is within noise" in head.change
    keep = compare_headline(data, ranking(data, "net_profit_base"), "x", "net_profit_base", 365, "")
    assert keep.recommendation.startswith("Keep x")


def test_entry_headline() -> None:
    options = pd.DataFrame(
        {
            "rank": [2, 1],
            "option": ["slow", "fast"],
            "regions": ["ID", "ID/local"],
            "npv_mean": [5.0, 20.0],
            "npv_low": [1.0, 15.0],
            "npv_high": [9.0, 25.0],
            "p_loss": [0.5, 0.0],
            "cvar5_profit": [-3.0, 4.0],
            "reps": [3, 3],
        }
    )
    reps = pd.DataFrame(
        {
            "option": ["fast"] * 3 + ["slow"] * 3,
            "rep": [0, 1, 2] * 2,
            "npv_base": [19, 20, 21, 4, 5, 6],
        }
    )
    head = entry_headline(options, reps, "USD")
    assert head.recommendation.startswith("Recommended entry: fast (ID/local): NPV USD 20")
    assert "lead over slow is USD 15 ± 0" in head.change
    losing = options.assign(npv_mean=[-5.0, -2.0])
    assert entry_headline(losing, reps, "USD").recommendation.startswith(
        "No option pays back; least bad: fast"
    )


def test_waterfall_ends_at_net_profit_in_every_region() -> None:
    run = ms.simulate(ms.load_scenario(ROOT / "scenarios" / "sea_entry.yaml"), days=40, seed=3)
    for region, totals in run.totals.items():
        steps = waterfall(totals)
        assert steps[0] == ("revenue", pytest.approx(totals["revenue_base"]))
        assert all(np.isfinite(v) for _, v in steps), region
        named = dict(steps)
        assert named["net profit"] == pytest.approx(totals["net_profit_base"], rel=1e-9, abs=1e-6)
        assert named["gross profit"] == pytest.approx(totals["gross_profit_base"], abs=1e-6)
        flows = sum(v for label, v in steps if label not in ("gross profit", "net profit"))
        assert flows == pytest.approx(totals["net_profit_base"], rel=1e-9, abs=1e-6), region


def test_risk_return_labels_never_overlap() -> None:
    from matplotlib.text import Text

    from experiments.report.context import Context
    from experiments.report.entry import _METRICS, risk_return_chart

    n = 8  # eight options crowded into a few pixels of every panel
    options = pd.DataFrame(
        {
            "option": [f"option_{i}" for i in range(n)],
            "rank": range(1, n + 1),
            "npv_mean": np.linspace(100, 104, n),
            "npv_low": np.linspace(90, 94, n),
            "npv_high": np.linspace(110, 114, n),
            "npv_sd": np.linspace(10, 11, n),
            "p_loss": np.linspace(0.1, 0.12, n),
            "cvar5_profit": -np.linspace(50, 52, n),
        }
    )[_METRICS]
    seen: list = []
    import experiments.report.entry as entry_module

    to_png = entry_module.to_png

    def keep(fig):  # measure the figure as drawn, then render it as usual
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]
            seen.append(len(boxes))
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    assert not a.overlaps(b), (a, b)
        return to_png(fig)

    entry_module.to_png = keep
    try:
        ctx = Context(Path("."), {"discount_rate_annual": 0.1}, {}, "entry", "USD")
        assert risk_return_chart(ctx, options)
    finally:
        entry_module.to_png = to_png
    assert seen == [n, n, n]


def test_report_tables_show_kpi_names_with_units() -> None:
    from experiments.outputs import outputs_of
    from experiments.report.tables import column_label, html_table

    frame = pd.DataFrame(
        {"kpi": ["net_profit_base", "market_share", "custom"], "mean": [1.0, 0.5, 2.0]}
    )
    table = html_table("t", frame, outputs_of("compare").table("differences.csv"), "EUR")
    assert [row[0] for row in table.rows] == ["net profit (EUR)", "market share (share)", "custom"]
    assert column_label("npv_low", "EUR") == "npv low"
    assert column_label("cac_base", "EUR") == "customer acquisition cost (EUR)"
    entry = outputs_of("entry").table("options.csv")
    assert entry.header("npv_low", "EUR") == "NPV of cash flows, 95% CI low (EUR)"
    assert entry.header("p_loss", "EUR") == "P(loss) (share)"
