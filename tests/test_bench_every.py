"""The ``bench_every`` benchmark scenario: the bench scenario with every newer mechanism on."""

from __future__ import annotations

import numpy as np

from benchmarks.workers import task_scenario
from experiments.replications import build_model


def test_bench_every_validates_and_every_mechanism_fires() -> None:
    """One 20,000-consumer, 60-day run: each mechanism switched on leaves a trace in the
    model or its KPIs (nests, channels and word of mouth, budget rule, entrants, experience,
    payments and COD refusals, baskets and bundles, fit, launches, trial packs, staffing,
    reorder points following sales)."""
    n, days = 20_000, 60
    sc = task_scenario({"scenario": "bench_every"}, n, days)
    region = sc.regions[0]
    assert region.population == n and sc.horizon_days == days
    assert region.choice.seller_nest_lambda < 1.0
    assert region.acquisition.word_of_mouth == "customers" and region.acquisition.channels
    assert "cod" in sc.firm.supported_payment_methods and region.payments.cod_refusal_rate > 0
    assert all(p.fit.sd > 0 for p in sc.products)
    assert sc.firm.launch.stock_location == "destination" and sc.firm.launch.stock_units > 0
    assert sc.firm.bundles is not None and sc.firm.trial_pack is not None
    assert all(rule.cover_days for rule in sc.firm.inventory_policy)

    model = build_model(sc, sc.seed, days)
    model.run()
    kpis = model.kpi_frame()
    total = kpis[kpis["region"] == "ALL"].sum(numeric_only=True)
    for name in (
        "new_customers_paid",  # paid channels
        "new_customers_wom",  # word of mouth from customers
        "failed_payments",
        "cod_refusals",
        "bundle_orders",
        "trial_packs",
        "launch_cost_base",
        "complaints",  # experience block
    ):
        assert total[name] > 0, name
    assert total["units"] > total["orders"]  # baskets and bundles: more than a unit an order
    assert np.any(model.fit.appeal != 0.0)  # product fit drawn
    assert (model.fit.destination.warehouse >= 0).all()  # launch stock held per listing
    assert model.marketing.rule.factor[0] != 1.0  # budget rule reviewed inside the horizon
    assert model.consumers[0].n > n  # market entrants born
    assert model.firm.staffing is not None and model.firm.staffing._last_review_day > 0
    cover = model.firm.demand_cover
    assert cover is not None and cover.rate.sum() > 0  # reorder points follow sales
