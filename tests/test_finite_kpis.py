"""Numbers stay finite: money and count KPIs never inf or NaN; ratios NaN only when undefined."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import marketsim as ms
from sim.errors import ScenarioError
from sim.kpis import (
    ALL_REGIONS,
    FINITE_IN_ALL_ROW,
    FINITE_IN_REGION_ROWS,
    HORIZON_KPIS,
    KPI_BY_NAME,
    KPIS,
    RATIO_KPIS,
    require_finite,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
DAYS = 60


def check_kpi_table(kpis: pd.DataFrame) -> None:
    """Assert the finiteness contract of the KPI catalogue on a daily KPI table."""
    is_all = kpis["region"] == ALL_REGIONS
    for rows, names in ((kpis[~is_all], FINITE_IN_REGION_ROWS), (kpis[is_all], FINITE_IN_ALL_ROW)):
        values = rows[list(names)].to_numpy(dtype=float)
        bad = [n for n, ok in zip(names, np.isfinite(values).all(axis=0), strict=True) if not ok]
        assert not bad, f"money/count KPIs not finite: {bad}"
    # outside the rows a KPI is defined for, it is NaN (empty in CSV)
    assert kpis.loc[~is_all, "cash_base"].isna().all()
    assert kpis.loc[is_all, "fx_local_per_base"].isna().all()
    for k in RATIO_KPIS:
        rows = {"every": kpis, "ALL": kpis[is_all], "regions": kpis[~is_all]}[k.defined_in]
        assert kpis.drop(rows.index)[k.name].isna().all(), k.name
        zero = rows[k.denominator] == 0
        assert rows.loc[zero, k.name].isna().all(), k.name
        assert np.isfinite(rows.loc[~zero, k.name].to_numpy(dtype=float)).all(), k.name
    # satisfaction is a mean over our alive customers: NaN only when there are none
    no_sat = kpis["satisfaction"].isna()
    assert (kpis.loc[no_sat, "active_customers"] == 0).all()
    assert kpis.loc[kpis["customers"] == 0, "satisfaction"].isna().all()
    assert np.isfinite(kpis.loc[~no_sat, "satisfaction"].to_numpy(dtype=float)).all()
    # horizon values: NaN before the last day; on it equity and profit plus equity are finite
    last = kpis["day"] == kpis["day"].max()
    assert kpis.loc[~last, list(HORIZON_KPIS)].isna().all().all()
    money = kpis.loc[last, ["customer_equity_base", "profit_plus_equity_base"]]
    assert np.isfinite(money.to_numpy(dtype=float)).all()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenarios_write_finite_money_and_counts(path: Path, tmp_path: Path) -> None:
    run = ms.simulate(path, days=DAYS, seed=1)
    assert len(run.kpis) == DAYS * (len(run.source.scenario.regions) + 1)
    check_kpi_table(run.kpis)
    for region, totals in run.totals.items():
        names = FINITE_IN_ALL_ROW if region == ALL_REGIONS else FINITE_IN_REGION_ROWS
        sums = [n for n in names if KPI_BY_NAME[n].aggregation == "sum"]
        assert all(math.isfinite(totals[n]) for n in sums), region
    # an undefined value is an empty cell in kpis.csv, never "nan" or "inf"
    run.write(tmp_path / "run")
    text = (tmp_path / "run" / "kpis.csv").read_text().lower()
    assert "nan" not in text and "inf" not in text
    check_kpi_table(pd.read_csv(tmp_path / "run" / "kpis.csv"))


def test_every_kpi_declares_when_it_may_be_nan() -> None:
    """Money and count KPIs are always finite; only ratios, means and horizon values (NaN
    before the run's last day) may be undefined."""
    for k in KPIS:
        if k.aggregation == "ratio":
            assert k.undefined_when == f"{k.denominator} is 0"
        elif k.undefined_when:
            # means with a stated gap, and values taken on the horizon day only
            stated = ("satisfaction", "days_of_cover", "market_growth_yoy")
            assert k.name in stated or k.name in HORIZON_KPIS
    assert "satisfaction" not in FINITE_IN_REGION_ROWS + FINITE_IN_ALL_ROW
    assert "cash_base" in FINITE_IN_ALL_ROW and "cash_base" not in FINITE_IN_REGION_ROWS
    assert "net_profit_base" in FINITE_IN_ALL_ROW and "units" in FINITE_IN_REGION_ROWS


def test_an_overflowing_row_stops_the_run_with_a_typed_error() -> None:
    row = {k.name: 0.0 for k in KPIS} | {"day": 12, "region": "EU", "cash_base": math.nan}
    require_finite(row, "tiny")  # cash_base is not defined in region rows
    row["freight_base"] = math.inf
    row["net_profit_base"] = -math.inf
    with pytest.raises(ScenarioError, match=r"day 12, region EU: freight_base=inf") as info:
        require_finite(row, "tiny")
    assert "overflow" in str(info.value)
    with pytest.raises(ScenarioError, match="cash_base=nan"):
        require_finite(row | {"region": ALL_REGIONS, "freight_base": 0.0}, "tiny")


def test_a_run_whose_costs_overflow_stops_instead_of_writing_inf(tmp_path: Path) -> None:
    """Fixed costs of 1e308 a month drive cash to -inf on day 54: the run is refused (by the
    scenario bounds, or else by the KPI guard), and nothing is written."""
    data = yaml.safe_load((ROOT / "scenarios" / "tiny.yaml").read_text())
    data["firm"]["fixed_costs_monthly_base"] = 1e308
    with pytest.raises(ScenarioError):
        ms.simulate(data, days=DAYS, seed=1, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
