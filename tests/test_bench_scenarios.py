"""The benchmark tasks' scenarios: the bench scenario and the all-mechanisms-on variant."""

from __future__ import annotations

import pytest

from benchmarks.workers import task_scenario


def test_all_on_is_the_default_scenario_at_n_consumers_with_retention() -> None:
    """``"scenario": "all_on"``: default.yaml's regions scaled to n consumers in total, the
    horizon and retention of the benchmark, disruptions kept inside a shorter horizon."""
    sc = task_scenario({"scenario": "all_on"}, 100_000, 120)
    assert len(sc.regions) == 2 and abs(sum(r.population for r in sc.regions) - 100_000) <= 1
    assert sc.horizon_days == 120 and sc.strategies.retention.name == "rfm_tiers"
    assert any(r.choice.seller_nest_lambda < 1.0 for r in sc.regions)
    bench = task_scenario({}, 5_000, 30)
    assert bench.regions[0].population == 5_000 and bench.horizon_days == 30
    with pytest.raises(ValueError, match="all_on"):
        task_scenario({"scenario": "nope"}, 1_000, 30)
