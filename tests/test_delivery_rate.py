"""Delivery-speed purchase rate (sim.delivery_rate): neutral when served cross-border, a local
warehouse's shorter promise raises customers' rate, pending occasions rescaled exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.consumers import NO_OCCASION
from sim.delivery_rate import rate_multiplier, rescale_pending
from sim.errors import ScenarioError
from sim.validation import parse_scenario
from tests.helpers import make_scenario, new_model
from tests.test_regional_warehouse import two_regions_with_hub, xb_warehouse_only


def test_rate_multiplier_is_the_calibrated_power_law():
    # DOMAIN: 15 -> 3 days halved the cycle: ln 2 / ln 5 = 0.43 doubles the rate
    assert rate_multiplier(np.log(2) / np.log(5), 3.0, 15.0) == pytest.approx(2.0)
    assert rate_multiplier(0.43, 8.0, 8.0) == 1.0
    assert rate_multiplier(0.0, 3.0, 15.0) == 1.0
    assert rate_multiplier(0.5, 16.0, 4.0) == pytest.approx(0.5)  # a slower lane: fewer


def test_customer_rate_shortens_customers_waits_only():
    model = new_model(make_scenario(), days=60)
    pop = model.consumers[0]
    idx = np.arange(20, dtype=np.int32)
    pop.customer[idx[:10]] = True
    start = np.zeros(len(idx))
    pop._schedule(idx, start)
    before = pop.next_tau[idx].copy()
    pop.customer_rate = 2.0
    pop._schedule(idx, start)
    after = pop.next_tau[idx]
    np.testing.assert_allclose(after[:10], before[:10] / 2, rtol=1e-6)
    np.testing.assert_array_equal(after[10:], before[10:])


def test_rescale_pending_keeps_draws_and_skips_parcels_in_transit():
    model = new_model(make_scenario(), days=60)
    pop = model.consumers[0]
    idx = np.arange(6, dtype=np.int32)
    pop.customer[idx] = True
    pop.alive[idx] = True
    day = 10
    now = pop.season_cumulative[day]
    pop.next_tau[idx] = now + np.array([1.0, 4.0, 8.0, 20.0, 30.0, 6.0])
    pop.next_day[idx] = np.searchsorted(pop.season_cumulative, pop.next_tau[idx], "right") - 1
    pop.next_day[5] = NO_OCCASION  # waiting for a parcel: redrawn at delivery
    assert rescale_pending(pop, day, 1.0, 2.0) == 5
    np.testing.assert_allclose(pop.next_tau[:5] - now, [0.5, 2.0, 4.0, 10.0, 15.0], rtol=1e-5)
    assert pop.next_day[5] == NO_OCCASION and pop.next_tau[5] == pytest.approx(now + 6.0)


def test_max_factor_caps_the_speed_up_only():
    """Fails on the old code (no ``max_factor``): 18 -> 3 days at 1.15 is x7.86, capped at 5."""
    assert rate_multiplier(1.15, 3.0, 18.0) == pytest.approx(6.0**1.15)
    assert rate_multiplier(1.15, 3.0, 18.0, 5.0) == 5.0
    assert rate_multiplier(1.15, 3.0, 18.0, 10.0) == pytest.approx(6.0**1.15)  # under the cap
    assert rate_multiplier(1.15, 3.0, 38.0, 8.0) == 8.0  # 38 -> 3 days: x18.6 without it
    assert rate_multiplier(0.5, 16.0, 4.0, 2.0) == pytest.approx(0.5)  # a slower lane: uncapped
    assert rate_multiplier(1.15, 3.0, 18.0, None) == rate_multiplier(1.15, 3.0, 18.0)


def _hub_data(elasticity: float, max_factor: float | None = None) -> dict:
    data = two_regions_with_hub().model_dump(mode="json", exclude_unset=True)
    for region in data["regions"]:
        region.setdefault("experience", {})["delivery_rate_elasticity"] = elasticity
        if max_factor is not None:
            region["experience"]["delivery_rate_max_factor"] = max_factor
    return data


def test_a_bad_max_factor_names_the_file_and_the_field():
    for bad in (0.5, -1.0, 1000.0, "fast"):
        with pytest.raises(ScenarioError, match=r"hub\.yaml.*experience.*delivery_rate_max_factor"):
            parse_scenario(_hub_data(1.0, bad), "hub.yaml")
    assert parse_scenario(_hub_data(1.0, 1.0), "hub.yaml")  # 1: no speed-up at all


def _hub(elasticity: float, warehouse: bool, max_factor: float | None = None) -> pd.DataFrame:
    sc = parse_scenario(_hub_data(elasticity, max_factor), "hub")
    model = new_model(sc, strategies={"localization": xb_warehouse_only(warehouse)}, days=120)
    frame = model.run()
    expected = rate_multiplier(elasticity, 3.0, 8.0, max_factor) if warehouse else 1.0
    assert model.consumers[1].customer_rate == pytest.approx(expected)
    assert model.consumers[0].customer_rate == 1.0  # XA is served cross-border
    return frame


def test_cross_border_runs_exactly_as_without_the_rule():
    pd.testing.assert_frame_equal(_hub(0.0, False), _hub(0.8, False))


def test_a_local_warehouse_raises_customers_occasions():
    """Fails without the rule: with the hub open XB's customers come back more often."""
    off, on = _hub(0.0, True), _hub(1.0, True)
    xb_off, xb_on = off[off["region"] == "XB"], on[on["region"] == "XB"]
    rate_off = xb_off["customer_occasions"].sum() / xb_off["customer_years"].sum()
    rate_on = xb_on["customer_occasions"].sum() / xb_on["customer_years"].sum()
    assert rate_on > 1.5 * rate_off, (rate_off, rate_on)  # x2.67 from the hub's day on


def _xb_customer_rate(frame: pd.DataFrame) -> float:
    xb = frame[frame["region"] == "XB"]
    return xb["customer_occasions"].sum() / xb["customer_years"].sum()


def test_the_cap_holds_back_a_warehouse_s_speed_up():
    """Fails on the old code (the field is refused): capped at x1.2 instead of x2.67, the
    hub's customers come back less often than uncapped and the model's factor is the cap."""
    uncapped, capped = _hub(1.0, True), _hub(1.0, True, max_factor=1.2)
    assert _xb_customer_rate(capped) < 0.8 * _xb_customer_rate(uncapped)


def test_a_cap_above_the_factor_changes_nothing():
    pd.testing.assert_frame_equal(_hub(1.0, True), _hub(1.0, True, max_factor=2.7))
