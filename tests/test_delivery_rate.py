"""Delivery-speed purchase rate (sim.delivery_rate): neutral when served cross-border, a local
warehouse's shorter promise raises customers' rate, pending occasions rescaled exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.consumers import NO_OCCASION
from sim.delivery_rate import rate_multiplier, rescale_pending
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


def _hub(elasticity: float, warehouse: bool) -> pd.DataFrame:
    sc = two_regions_with_hub()
    data = sc.model_dump(mode="json", exclude_unset=True)
    for region in data["regions"]:
        region.setdefault("experience", {})["delivery_rate_elasticity"] = elasticity
    sc = parse_scenario(data, "hub")
    model = new_model(sc, strategies={"localization": xb_warehouse_only(warehouse)}, days=120)
    frame = model.run()
    expected = rate_multiplier(elasticity, 3.0, 8.0) if warehouse else 1.0
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
