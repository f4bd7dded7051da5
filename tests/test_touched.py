"""Touched groups of the lever rows (experiments/check/touched.py) and the rows that use them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from experiments.check import levers, touched
from experiments.check.runs import RunStats
from experiments.replications import build_model
from sim.orders import STATUS_LOST
from tests.helpers import make_scenario


def _late_tiny() -> object:
    """tiny with a slow last mile, so that some parcels miss their promise."""

    def edit(d: dict) -> None:
        for lane in d["lanes"]:
            lane["last_mile_days"] = {"dist": "lognormal", "mean": lane["promised_days"], "sd": 2.0}

    return make_scenario(edit)


def test_group_statistics_follow_the_order_book() -> None:
    """Each group's cohort, lost customers and satisfaction equal a plain count over the
    order book and the consumers' states; the served figures are the warehouse regions'."""
    days, window = 120, 60
    model = build_model(_late_tiny(), np.random.SeedSequence([3, 0, 0]), days)
    kpis = model.run()
    got = touched.group_statistics(model, kpis, days, window)
    book = model.firm.orders
    o = pd.DataFrame(
        {c: book.column(c) for c in ("region", "consumer", "day", "seq", "late_days", "status")}
    )
    early = o[o["day"] < days - window]
    late = early[(early["late_days"] > 0) | (early["status"] == STATUS_LOST)]
    for name, rows in (("repeat", early[early["seq"] == 2]), ("late", late)):
        pairs = set(zip(rows["region"], rows["consumer"], strict=True))
        pops = model.consumers
        assert got[f"{name}_cohort"] == len(pairs) > 0, name
        assert got[f"{name}_lost"] == sum(not pops[r].alive[c] for r, c in pairs)
        total = sum(float(pops[r].satisfaction[c]) for r, c in pairs)
        assert np.isclose(got[f"{name}_satisfaction_sum"], total, rtol=1e-5)
    served = kpis[kpis["region"].isin(touched.served_regions(model))]
    lost = served["churned_customers"].sum() - served["reactivated_customers"].sum()
    assert got["served_lost"] == lost
    assert got["served_repeat_orders"] == served["repeat_orders"].sum()
    assert got["served_customer_years"] == served["customer_years"].sum()


def _stats(variant: str, rep: int, figures: dict[str, float]) -> RunStats:
    return RunStats(variant, rep, 365, pd.DataFrame(), {}, touched=figures)


def test_lever_rows_measure_the_touched_groups() -> None:
    """The loyalty and local-service rows read the groups they act on: a lower share of
    repeat buyers / late-parcel buyers lost passes, a higher one fails."""
    every = {lv.id: lv for lv in levers.built_in_levers()}
    cases = {
        "retention=loyalty_program": ("repeat_lost", "repeat_cohort"),
        "local_service": ("late_lost", "late_cohort"),
        "local_warehouse_churn": ("served_lost", "served_customer_years"),
    }
    for lever_id, (lost, cohort) in cases.items():
        lever = every[lever_id]
        base = [_stats("baseline", k, {lost: 300.0 + k, cohort: 1000.0}) for k in range(3)]
        for delta, verdict in ((-20.0, "pass"), (+20.0, "fail: wrong direction")):
            var = [_stats("v", k, {lost: 300.0 + k + delta, cohort: 1000.0}) for k in range(3)]
            row = levers.lever_row(lever, {"baseline": base, lever.variant: var})
            assert np.isclose(row["baseline"], 0.301) and row["verdict"] == verdict, row


def test_share_kpis_print_in_points() -> None:
    """The CLI prints the lever KPIs levers.SHARE_KPIS names in percentage points, others not."""
    import pandas as pd

    from experiments.cli import check as cli

    assert set(levers.METRICS) >= levers.SHARE_KPIS
    rows = [
        {
            "scenario": "s",
            "lever": "a",
            "kpi": kpi,
            "expected": "-",
            "effect": -0.0123,
            "low": -0.02,
            "high": -0.004,
            "verdict": "pass",
        }
        for kpi in ("repeat_customers_lost", "net_profit_base")
    ]
    result = type("R", (), {"levers": pd.DataFrame(rows)})()
    text = "\n".join(cli.format_levers(result))
    share_line, money_line = (ln for ln in text.splitlines() if ln.startswith(("a ", "| a")))
    assert "-1.23 pp" in share_line and "pp" not in money_line


def test_a_row_without_a_stated_direction_shows_its_effect_and_reason() -> None:
    """top_margin: DOMAIN states no direction for a margin-only selection; the row shows the
    effect on net profit and says why there is no verdict; warehouse rows read the regions
    a warehouse serves."""
    every = {lv.id: lv for lv in levers.built_in_levers()}
    top = every["selection=top_margin"]
    assert top.expected is not None and top.expected.sign == 0 and "DOMAIN" in top.expected.source
    kpis = pd.DataFrame({"region": ["ALL"], "day": [0], "net_profit_base": [10.0]})
    base = [RunStats("baseline", k, 365, kpis, {}) for k in range(2)]
    worse = [RunStats("v", k, 365, kpis.assign(net_profit_base=5.0 - k), {}) for k in range(2)]
    row = levers.lever_row(top, {"baseline": base, "lever:selection=top_margin": worse})
    assert row["expected"] == "-" and row["effect"] == -5.5 and row["source"]
    assert row["verdict"] == "not measurable: DOMAIN states no direction"
    assert every["local_warehouse"].expected.kpi == "served_repeat_orders_per_customer_year"


def test_rows_on_one_lever_run_its_variant_once() -> None:
    """local_service_satisfaction and local_warehouse_churn read their lever's variant."""
    from experiments.check.suite import _variants
    from experiments.files import load_scenario

    every = {lv.id: lv for lv in levers.built_in_levers()}
    assert every["local_service_satisfaction"].variant == every["local_service"].variant
    assert every["local_warehouse_churn"].variant == every["local_warehouse"].variant
    ids = ["local_service", "local_service_satisfaction"]
    ids += ["local_warehouse", "local_warehouse_churn"]
    default = load_scenario(Path(__file__).parents[1] / "scenarios" / "default.yaml")
    built = _variants(default, [], [every[i] for i in ids])
    assert sorted(built) == ["baseline", "lever:local_service", "lever:local_warehouse"]
