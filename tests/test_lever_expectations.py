"""A scenario's own lever expectations (`lever_expectations`): schema, validation, the row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.check import check, levers
from experiments.check.runs import RunStats
from experiments.cli.main import main
from sim.errors import ScenarioError
from tests.helpers import load_tiny, make_scenario

LEVER = "pricing=competitive_index"


def _stating(expectations: dict) -> dict:
    """tiny.yaml's data with ``lever_expectations`` set."""
    data = load_tiny()
    data["lever_expectations"] = expectations
    return data


def _write(tmp_path: Path, expectations: dict) -> Path:
    path = tmp_path / "stated.yaml"
    path.write_text(yaml.safe_dump(_stating(expectations), sort_keys=False), encoding="utf-8")
    return path


def _margin_runs(name: str, margins: list[float]) -> list[RunStats]:
    """Runs whose gross margin (gross profit / revenue, one day) is each of ``margins``."""
    return [
        RunStats(
            name,
            k,
            365,
            pd.DataFrame(
                {"region": ["ALL"], "day": [0], "gross_profit_base": [m], "revenue_base": [1.0]}
            ),
            {},
        )
        for k, m in enumerate(margins)
    ]


@pytest.mark.parametrize(
    ("stated", "field"),
    [
        ({"kpi": "gross_margin", "direction": "lower", "source": "why"}, "direction"),
        ({"kpi": "gross_margin", "direction": "down"}, "source"),
        ({"kpi": "gross_margin", "direction": "down", "source": ""}, "source"),
        ({"kpi": "gross_margin", "direction": "down", "source": "why", "sign": -1}, "sign"),
    ],
)
def test_the_schema_names_the_file_and_the_field(tmp_path, capsys, stated, field) -> None:
    path = _write(tmp_path, {LEVER: stated})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and f"lever_expectations.{LEVER}.{field}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("key", "stated", "field", "says"),
    [
        ("pricing=no_such", {"kpi": "gross_margin"}, "lever_expectations.pricing=no_such", "lever"),
        (LEVER, {"kpi": "gross_profit"}, f"lever_expectations.{LEVER}.kpi", "'gross_profit'"),
    ],
)
def test_check_refuses_an_unknown_lever_or_kpi(tmp_path, capsys, key, stated, field, says) -> None:
    """The lever ids and KPIs are the lever table's: `marketsim check` refuses others with
    exit 2, naming the file and the field (no traceback), before running anything."""
    path = _write(tmp_path, {key: {"direction": "down", "source": "why", **stated}})
    with pytest.raises(ScenarioError) as exc:
        check([path], level="full", reps=2, days=60, workers=1)
    assert str(path) in str(exc.value) and field in str(exc.value) and says in str(exc.value)
    assert main(["check", str(path), "--full", "--reps", "2", "--days", "60"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {field}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("direction", "margins", "verdict"),
    [
        ("down", [0.10, 0.11, 0.09], "pass"),
        ("up", [0.10, 0.11, 0.09], "fail: wrong direction"),
        ("none", [0.10, 0.11, 0.09], "not measurable: the scenario states no direction"),
    ],
)
def test_the_scenario_statement_replaces_the_built_in_one(direction, margins, verdict) -> None:
    """The row reads the scenario's KPI and direction, and says whose statement it is and
    what it replaced; the other rows and other scenarios keep the built-in statement."""
    sc = make_scenario(
        lambda d: d.update(
            lever_expectations={
                LEVER: {"kpi": "gross_margin", "direction": direction, "source": "price war"}
            }
        )
    )
    every = {lv.id: lv for lv in levers.scenario_levers(levers.built_in_levers(), sc)}
    lever = every[LEVER]
    base = _margin_runs("baseline", [0.45, 0.44, 0.46])
    row = levers.lever_row(lever, {"baseline": base, lever.variant: _margin_runs("v", margins)})
    assert row["kpi"] == "gross_margin" and row["verdict"] == verdict
    assert row["stated_by"] == "scenario"
    assert row["source"].startswith("stated by the scenario: price war")
    assert "replaces the built-in: market_share up, DOMAIN" in row["source"]
    built_in = {lv.id: lv for lv in levers.built_in_levers()}
    assert every["pricing=penetration"].expected == built_in["pricing=penetration"].expected
    plain = levers.scenario_levers(levers.built_in_levers(), make_scenario())
    assert [lv.expected for lv in plain] == [built_in[lv.id].expected for lv in plain]
    assert levers.lever_row(built_in[LEVER], {"baseline": base})["kpi"] == "market_share"


def test_the_full_check_judges_the_stated_row(tmp_path, monkeypatch, capsys) -> None:
    """Through `marketsim check --full`: the row carries the scenario's KPI and source, and
    the printed table marks the expectation and prints its source under the table."""
    from experiments.check import theory

    monkeypatch.setattr(theory, "run_theory_checks", lambda: [theory.logit_sampler()])
    stated = {"kpi": "gross_margin", "direction": "down", "source": "rivals follow us"}
    path = _write(tmp_path, {LEVER: stated})
    result = check([path], level="full", reps=2, days=60, workers=1, only=[LEVER])
    row = result.levers.to_dict(orient="records")[0]
    assert row["lever"] == LEVER and row["kpi"] == "gross_margin" and row["expected"] == "down"
    assert row["stated_by"] == "scenario" and "rivals follow us" in row["source"]
    main(["check", str(path), "--full", "--reps", "2", "--days", "60", "--only", LEVER])
    out = capsys.readouterr().out
    assert "down *" in out and f"* {LEVER}: stated by the scenario: rivals follow us" in out


def test_kenya_states_competitive_index_from_its_price_war() -> None:
    """kenya_entry states competitive_index's KPI with its reasoning; its other levers keep
    the built-in statements."""
    from experiments.check.suite import SCENARIOS_DIR, validate_expectations
    from experiments.files import load_scenario

    kenya = load_scenario(SCENARIOS_DIR / "kenya_entry.yaml")
    validate_expectations(kenya, "kenya_entry.yaml")
    assert list(kenya.lever_expectations) == [LEVER]
    stated = kenya.lever_expectations[LEVER]
    assert stated.kpi in levers.METRICS and stated.direction == "down"
    assert "price wars squeeze margins" in stated.source


def _priced_runs(name: str, prices: list[float], shares: list[float]) -> list[RunStats]:
    """Runs whose price per unit (revenue / units) and market share are as given."""
    return [
        RunStats(
            name,
            k,
            365,
            pd.DataFrame(
                {
                    "region": ["ALL"],
                    "day": [0],
                    "revenue_base": [p * 100.0],
                    "units": [100.0],
                    "orders": [s * 1000.0],
                    "market_units": [1000.0],
                }
            ),
            {},
        )
        for k, (p, s) in enumerate(zip(prices, shares, strict=True))
    ]


@pytest.mark.parametrize(
    ("prices", "shares", "verdict"),
    [
        ([9.0, 9.1, 8.9], [0.06, 0.061, 0.059], "pass"),
        ([9.0, 9.1, 8.9], [0.04, 0.041, 0.039], "fail: wrong direction"),
        # dearer than the baseline: DOMAIN's "under the incumbents" is not what happened
        ([25.0, 26.0, 24.0], [0.04, 0.041, 0.039], "not applicable: the index prices under"),
        ([10.0, 10.5, 9.5], [0.04, 0.041, 0.039], "not applicable: the index prices under"),
    ],
)
def test_competitive_index_is_judged_where_it_prices_under_the_baseline(
    prices, shares, verdict
) -> None:
    """The built-in row holds only where the index cuts our price; on the old code a
    price rise that lost share was a 'wrong direction' failure of the model."""
    lever = {lv.id: lv for lv in levers.built_in_levers()}[LEVER]
    base = _priced_runs("baseline", [10.0, 10.1, 9.9], [0.05, 0.05, 0.05])
    row = levers.lever_row(
        lever, {"baseline": base, lever.variant: _priced_runs("v", prices, shares)}
    )
    assert row["verdict"].startswith(verdict), row["verdict"]
    if verdict.startswith("not applicable"):
        assert "price_per_unit_base" in row["verdict"]
