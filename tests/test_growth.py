"""Market entrants: fresh, unaware consumers join at the declared yearly share."""

from __future__ import annotations

import numpy as np
from helpers import make_scenario

from sim.errors import ScenarioError
from sim.validation import BYTES_PER_CONSUMER, estimate_memory_bytes, parse_scenario
from tests.helpers import new_model


def _with_entrants(share: float, days: int = 120):
    def modify(d: dict) -> None:
        d["horizon_days"] = days
        d["regions"][0]["entrants_yearly_share"] = share

    return make_scenario(modify)


def test_entrants_arrive_at_the_declared_rate_and_unaware() -> None:
    sc = _with_entrants(0.73)  # 5000 x 0.73 x 120/365 = 1,200 entrants
    model = new_model(sc)
    pop = model.consumers[0]
    assert pop.n == 5000 and pop.capacity == 5000 + 1200
    for _ in range(60):
        model.step()
    assert pop.n == 5000 + int(5000 * 0.73 * 60 / 365)
    model.run()
    assert pop.n == 6200
    entrants = np.arange(5000, 6200)
    assert pop.alive[entrants].mean() > 0.5  # born alive; some have dropped out since
    # entrants adopt awareness through the same Bass hazard, later than the initial population
    assert pop.aware[entrants].mean() < pop.aware[:5000].mean()


def test_entrants_raise_occasions_against_no_entrants() -> None:
    base = new_model(_with_entrants(0.0)).run()
    grown = new_model(_with_entrants(1.0)).run()
    late = lambda f: f[(f["region"] == "XA") & (f["day"] >= 60)]["occasions"].sum()  # noqa: E731
    assert late(grown) > 1.1 * late(base)


def test_memory_estimate_counts_entrants() -> None:
    data = {"horizon_days": 365, "regions": [{"population": 1000, "entrants_yearly_share": 2.0}]}
    assert estimate_memory_bytes(data) == 3000 * BYTES_PER_CONSUMER
    big = {
        "horizon_days": 3650,
        "regions": [{"population": 100_000_000, "entrants_yearly_share": 5.0}],
    }
    try:
        parse_scenario(big, "big.yaml")
    except ScenarioError as exc:
        assert "GiB" in str(exc)
    else:  # pragma: no cover - would mean the estimate ignored entrants
        raise AssertionError("a 5-billion-slot market was not refused")
