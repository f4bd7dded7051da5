"""Mesa conventions: `mesa.batch_run` runs `MarketModel` to its horizon and returns KPI rows."""

from __future__ import annotations

import numpy as np
from mesa.batchrunner import batch_run

from sim.kpis import ALL_REGIONS, KPIS
from sim.model import MarketModel
from strategies import registry
from tests.helpers import make_scenario, new_model

DAYS = 12
SEED = 17


def test_batch_run_returns_the_daily_all_row_kpis() -> None:
    scenario = make_scenario()
    rows = batch_run(
        MarketModel,
        parameters={
            "scenario": [scenario],  # a pydantic model is iterable: wrap single values
            "strategies": [registry.strategy_factories(scenario.strategies)],
            "seed": SEED,
            "days": DAYS,
        },
        iterations=1,
        max_steps=10 * DAYS,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    assert [row["Step"] for row in rows] == list(range(DAYS))  # stops at the horizon
    names = [k.name for k in KPIS]
    assert set(names) <= set(rows[0])

    expected = new_model(scenario, seed=SEED, days=DAYS).run()
    expected = expected[expected["region"] == ALL_REGIONS].reset_index(drop=True)
    for name in names:
        got = np.array([row[name] for row in rows], dtype=float)
        want = expected[name].to_numpy(dtype=float)
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_model_stops_running_at_the_horizon() -> None:
    model = new_model(make_scenario(), seed=SEED, days=3)
    assert model.running
    for _ in range(3):
        model.step()
    assert not model.running
    assert model.day == 3
