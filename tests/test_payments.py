"""Payments: success at checkout by method (with one retry), cash-on-delivery refusals."""

from __future__ import annotations

import math

from helpers import make_scenario

from sim.kpis import ALL_REGIONS
from tests.helpers import new_model


def _world(methods: list[str], success: dict[str, float], **payments) -> object:
    def modify(d: dict) -> None:
        region = d["regions"][0]
        region["population"] = 20_000
        region["segments"][0]["payment_preferences"] = {"mobile_money": 1.0}
        region["payments"] = {"success_rate": success, **payments}
        d["firm"]["supported_payment_methods"] = methods
        d["firm"]["payment_fee_rate"]["mobile_money"] = 0.015
        d["firm"]["warehouses"][0]["initial_units"] = 100_000

    return make_scenario(modify)


def _rates(sc, seed: int = 11, days: int = 60) -> tuple[float, int, object]:
    model = new_model(sc, seed=seed, days=days)
    f = model.run()
    a = f[f["region"] == ALL_REGIONS]
    checkouts = int(a["checkouts"].sum())
    return float(a["orders"].sum()) / checkouts, checkouts, a


def _within(observed: float, p: float, n: int, z: float = 4.0) -> bool:
    """Observed share within z binomial standard errors of p."""
    return abs(observed - p) <= z * math.sqrt(p * (1 - p) / n)


def test_mobile_money_lifts_payment_success_as_in_kenya() -> None:
    """DOMAIN: mobile money lifted payment success from 63% to 91% (Kenya). Buyers who pay by
    mobile money: without it they pay by card (63%); with it 91% (4 binomial SEs)."""
    success = {"card": 0.63, "mobile_money": 0.91}
    without, n1, a1 = _rates(_world(["card"], success))
    with_mm, n2, _ = _rates(_world(["card", "mobile_money"], success))
    assert n1 > 1_000 and n2 > 1_000  # binomial SE under 1.5 pp
    assert _within(without, 0.63, n1), without
    assert _within(with_mm, 0.91, n2), with_mm
    assert (a1["stockouts"] == 0).all()  # failed payments are not stockouts
    assert a1["failed_payments"].sum() > 0


def test_a_failed_payment_retries_once_with_the_fallback() -> None:
    """Success = s + (1 - s) x retry_share x s_fallback when the buyer's own method fails."""
    success = {"card": 0.8, "mobile_money": 0.5}
    rate, n, _ = _rates(_world(["card", "mobile_money"], success, retry_share=0.6))
    assert _within(rate, 0.5 + 0.5 * 0.6 * 0.8, n), rate


def test_cod_refusals_go_back_to_origin_at_a_cost() -> None:
    """30% of COD parcels are refused at the door: the sale is reversed (refund net of VAT,
    VAT reversed) and the return trip is order freight."""

    def modify(d: dict) -> None:
        region = d["regions"][0]
        region["population"] = 20_000
        region["segments"][0]["payment_preferences"] = {"cod": 1.0}
        region["payments"] = {"cod_refusal_rate": 0.3, "return_to_origin_cost_base": 5.0}
        d["firm"]["supported_payment_methods"] = ["cod"]
        d["firm"]["warehouses"][0]["initial_units"] = 100_000
        for p in d["products"]:
            p["return_probability"] = 0.0
        d["lanes"][0]["loss_probability"] = 0.0
        d["lanes"][0]["cost_per_unit_base"] = 0.0
        d["lanes"][0]["cost_per_shipment_base"] = 0.0

    sc = make_scenario(modify)
    model = new_model(sc, seed=4, days=60)
    frame = model.run()
    a = frame[frame["region"] == ALL_REGIONS]
    refused = int(a["cod_refusals"].sum())
    arrived = refused + int(a["deliveries"].sum())
    assert arrived > 2_000
    assert _within(refused / arrived, 0.3, arrived)
    counts = model.order_status_counts()
    assert counts["refused"] == refused and counts["returned"] == 0
    assert a["refunds_base"].sum() > 0 and a["vat_reversed_base"].sum() > 0
    # outbound parcels cost nothing in this world: freight is the trips back alone
    assert math.isclose(a["freight_base"].sum(), 5.0 * refused, rel_tol=1e-9)
