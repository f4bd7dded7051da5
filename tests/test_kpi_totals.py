"""Totals-only KPI mode (``kpi_detail="totals"``): the same horizon totals, to the bit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.explore import explore
from experiments.files import load_scenario
from experiments.replications import ReplicationTask, build_model
from experiments.stats import grouped_totals, totals
from sim.errors import ScenarioError, UsageError
from sim.kpi_totals import KpiTotals
from sim.kpis import ALL_REGIONS, FLOW_KPIS, KPI_COLUMNS
from tests.helpers import ROOT, VARIANTS
from tests.test_explore import UNCERTAINTIES


def _small(name: str, population: int) -> object:
    sc = load_scenario(ROOT / "scenarios" / name)
    regions = [r.model_copy(update={"population": population}) for r in sc.regions]
    return sc.model_copy(update={"regions": regions})


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("name", ["default.yaml", "sea_entry.yaml"])
def test_totals_mode_gives_every_horizon_total_to_the_bit(name: str) -> None:
    """Every KPI total of every region and ALL (explore reads ALL's, for any --kpi) is equal
    (==) whether the run kept its daily table or only its totals."""
    sc = _small(name, 3000)
    daily = build_model(sc, np.random.SeedSequence([7, 0, 0]), 200).run()
    model = build_model(sc, np.random.SeedSequence([7, 0, 0]), 200, "totals")
    frame = model.run()
    assert list(frame.columns) == KPI_COLUMNS
    assert list(frame["region"]) == [*[r.id for r in sc.regions], ALL_REGIONS]
    assert (frame["day"] == 199).all() and not model.datacollector.model_vars["units"]
    full, kept = totals(daily), totals(frame)
    assert list(full) == list(kept)
    unequal = [
        (region, k, v, kept[region][k])
        for region, row in full.items()
        for k, v in row.items()
        if not _same(v, kept[region][k])
    ]
    assert not unequal
    assert full["ALL"]["units"] > 0 and full["ALL"]["net_profit_base"] != 0
    # the one-row-per-region shortcut gives what grouping gives, signed zeros included
    grouped = grouped_totals(frame)
    assert list(grouped) == list(kept)
    for region, row in grouped.items():
        for k, v in row.items():
            assert _same(v, kept[region][k]) and np.signbit(v) == np.signbit(kept[region][k]), k


def test_explore_outcomes_are_identical_with_either_kpi_detail(tmp_path: Path) -> None:
    u, v = tmp_path / "u.yaml", tmp_path / "v.yaml"
    u.write_text(UNCERTAINTIES)
    v.write_text(VARIANTS)
    kw = {"variants": v, "futures": 3, "days": 20, "workers": 1, "screen_scale": 0.5}
    daily = explore(u, **kw, kpi_detail="daily", out=tmp_path / "daily")
    kept = explore(u, **kw, out=tmp_path / "totals")
    pd.testing.assert_frame_equal(daily.outcomes, kept.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(daily.robust, kept.robust, check_exact=True)
    runs = pd.read_parquet(tmp_path / "totals" / "runs")
    assert len(runs) == 2 * len(daily.outcomes)  # tiny: one region + ALL per run
    assert len(pd.read_parquet(tmp_path / "daily" / "runs")) == 20 * len(runs)
    with pytest.raises(UsageError, match="kpi_detail"):
        explore(u, **kw, kpi_detail="weekly")


def test_totals_are_read_at_the_horizon_and_keyed_apart_in_the_store() -> None:
    sc = _small("tiny.yaml", 500)
    model = build_model(sc, 1, 30, "totals")
    with pytest.raises(UsageError, match="horizon"):
        model.run(days=10)
    assert len(model.run()) == 2 and model.day == 30  # run on to the horizon: the totals
    daily = ReplicationTask(sc, 0, "abc", "v", 0, 7, 30)
    kept = ReplicationTask(sc, 0, "abc", "v", 0, 7, 30, "totals")
    assert daily.fingerprint != kept.fingerprint and daily.key == kept.key


def test_an_overflowing_day_still_stops_a_totals_run() -> None:
    book = KpiTotals(2, 5, "tiny")
    row = dict.fromkeys(FLOW_KPIS, 0.0) | {"day": 3, "region": "XA"}
    book.add(0, [row, row | {"region": ALL_REGIONS}])
    with pytest.raises(ScenarioError, match=r"day 3, region XA: freight_base=inf"):
        book.add(1, [row | {"freight_base": math.inf}, row | {"region": ALL_REGIONS}])
