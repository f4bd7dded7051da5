"""Dated events: exact effects from their day on (and none before), validation, uncertain dates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from experiments.cli import main
from experiments.explore.uncertainties import load_uncertainties
from experiments.files import load_scenario
from experiments.replications import build_model
from sim.errors import ScenarioError
from tests.helpers import ROOT, load_tiny

FX = 2.0
DAYS = 40


def _tiny(events: list[dict[str, Any]], **tax: float) -> dict[str, Any]:
    data = load_tiny()
    region = data["regions"][0]
    region["fx"] = {"local_per_base": FX, "daily_volatility": 0.0}  # prices stay put
    region["tax"] = {**region["tax"], **tax}
    data["events"] = events
    return data


def _orders(data: dict[str, Any]) -> dict[str, np.ndarray]:
    model = build_model(load_scenario(data), 3, DAYS)
    model.run()
    book = model.firm.orders
    names = ("day", "product", "price_local", "paid_base", "duty_base", "vat_base", "consumer")
    return {n: book.column(n) for n in names}


def test_de_minimis_removal_changes_duty_from_that_day_on_only() -> None:
    removal = {"kind": "tax_change", "day": 20, "region": "XA", "de_minimis_local": 0.0}
    tax = {"duty_rate": 0.10, "vat_rate": 0.20, "de_minimis_local": 10_000.0}
    with_event = _orders(_tiny([removal], **tax))
    without = _orders(_tiny([], **tax))
    day, price = with_event["day"], with_event["price_local"]
    assert (day < 20).sum() > 20 and (day >= 20).sum() > 20
    # every order: exactly no duty before day 20; from day 20 on 10% of its list price
    # (the order book stores float32: equal to float32 precision)
    duty = with_event["duty_base"]
    assert (duty[day < 20] == 0.0).all() and (duty[day >= 20] > 0.0).all()
    eps = np.finfo(duty.dtype).eps
    np.testing.assert_allclose(duty, np.where(day >= 20, price * 0.10 / FX, 0.0), rtol=2 * eps)
    np.testing.assert_allclose(
        with_event["paid_base"], price * np.where(day >= 20, 1.10, 1.0) * 1.20 / FX, rtol=2 * eps
    )
    # before the event the two runs are the same orders to the bit; after it they are not
    before = without["day"] < 20
    assert before.sum() == (day < 20).sum()
    for name, column in without.items():
        np.testing.assert_array_equal(with_event[name][day < 20], column[before], err_msg=name)
    assert without["duty_base"].sum() == 0.0


@pytest.mark.parametrize("pass_through", [0.0, 0.4, 1.0])
def test_fx_jump_moves_landed_prices_by_jump_times_pass_through(pass_through: float) -> None:
    jump = {"id": "devaluation", "kind": "fx_jump", "day": 14, "region": "XA", "multiplier": 1.25}
    data = _tiny([jump], duty_rate=0.10, vat_rate=0.20, de_minimis_local=0.0)
    data["strategies"]["pricing"] = {
        "name": "cost_plus",
        "params": {"markup": 0.6, "fx_pass_through": pass_through},
    }
    orders = _orders(data)
    day, product = orders["day"], orders["product"]
    fx = np.where(day >= 14, FX * 1.25, FX)
    landed_local = orders["paid_base"] * fx  # consumer price incl. duty and VAT, local
    for p in np.unique(product):
        before = landed_local[(product == p) & (day < 14)]
        after = landed_local[(product == p) & (day >= 14)]  # day 14 is a decision day
        assert len(before) and len(after)
        assert np.ptp(before) == 0.0 and np.ptp(after) == 0.0
        eps = float(np.finfo(orders["paid_base"].dtype).eps)  # the order book's float32
        assert after[0] / before[0] == pytest.approx(1.0 + pass_through * 0.25, rel=4 * eps)


def test_lane_disruption_and_marketing_cost_events_act_on_their_days() -> None:
    base = _orders(_tiny([]))
    closed = {
        "kind": "lane_disruption",
        "day": 5,
        "end_day": DAYS,
        "lane": "cn-xa-air",
        "stage": "processing",
        "capacity_multiplier": 0.0,
    }
    data = _tiny([closed])
    model = build_model(load_scenario(data), 3, DAYS)
    kpis = model.run()
    deliveries = kpis[kpis["region"] == "ALL"].set_index("day")["deliveries"]
    assert deliveries.loc[20:].sum() == 0 < deliveries.loc[:19].sum()  # nothing leaves after day 5
    shock = {"kind": "marketing_cost", "day": 0, "multiplier": 100.0}
    shocked = _orders(_tiny([shock]))
    assert len(shocked["day"]) < len(base["day"])  # marketing buys far less awareness


def test_bad_events_name_file_and_field(tmp_path: Path) -> None:
    data = _tiny(
        [
            {"kind": "fx_jump", "day": 3, "region": "ZZ", "multiplier": 1.1},
            {
                "kind": "lane_disruption",
                "day": 3,
                "end_day": 9,
                "lane": "cn-xa-air",
                "stage": "nope",
                "capacity_multiplier": 0.5,
            },
            {"kind": "tax_change", "day": 3, "region": "XA"},
        ]
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("events[2].duty_rate", "set duty_rate, vat_rate or de_minimis_local")
    ]
    data["events"].pop()
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert [p.path for p in info.value.problems] == ["events[0].region", "events[1].stage"]


def test_event_date_and_size_can_be_uncertain(tmp_path: Path) -> None:
    import yaml

    data = _tiny([{"id": "deval", "kind": "fx_jump", "day": 30, "region": "XA", "multiplier": 1.2}])
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(data))
    spec = tmp_path / "u.yaml"
    spec.write_text(
        f"scenario: {scenario}\n"
        "uncertainties:\n"
        "  - {name: deval_day, path: 'events[deval].day', dist: uniform, integer: true,"
        " low: 10, high: 300}\n"
        "  - {name: deval_size, path: 'events[deval].multiplier', dist: uniform,"
        " low: 1.0, high: 2.0}\n"
    )
    parsed, _ = load_uncertainties(spec)
    assert parsed.names == ["deval_day", "deval_size"]
    spec.write_text(spec.read_text().replace("high: 2.0", "high: 200.0"))
    with pytest.raises(ScenarioError) as info:
        load_uncertainties(spec)
    assert [p.path for p in info.value.problems] == ["uncertainties[1].high"]


def _kpis(data: dict[str, Any]):
    return build_model(load_scenario(data), 3, DAYS).run()


def test_competitor_exit_and_entry_are_exactly_an_absent_competitor() -> None:
    gone = load_tiny()
    gone["competitors"] = []
    absent = _kpis(gone)
    exit_now = load_tiny()
    exit_now["events"] = [{"kind": "competitor_exit", "day": 0, "competitor": "incumbent"}]
    assert _kpis(exit_now).equals(absent)  # every KPI of every day, to the bit
    enters = load_tiny()
    enters["events"] = [{"kind": "competitor_entry", "day": 20, "competitor": "incumbent"}]
    late = _kpis(enters)
    before = late["day"] < 20
    assert late[before].reset_index(drop=True).equals(absent[absent["day"] < 20])
    assert (
        not late[~before]
        .reset_index(drop=True)
        .equals(absent[absent["day"] >= 20].reset_index(drop=True))
    )
    enters["events"][0]["competitor"] = "nobody"
    with pytest.raises(ScenarioError, match=r"events\[0\]\.competitor: unknown competitor"):
        load_scenario(enters)


def test_shipped_events_example_runs_and_removes_de_minimis_on_1_july(tmp_path: Path) -> None:
    path = ROOT / "examples" / "eu_de_minimis.yaml"
    assert main(["run", str(path), "--days", "3", "--out", str(tmp_path / "run")]) == 0
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for region in data["regions"]:
        region["population"] = 20_000  # fewer consumers, the same events
    model = build_model(load_scenario(data), 5, 200)
    model.run()
    book = model.firm.orders
    de = book.column("region") == model.region_ids.index("DE")
    day, duty = book.column("day")[de], book.column("duty_base")[de]
    assert (day < 181).sum() > 20 and (day >= 181).sum() > 20
    # every German parcel is under EUR 150: duty-free before 1 July, dutiable from then on
    assert (duty[day < 181] == 0.0).all() and (duty[day >= 181] > 0.0).all()
