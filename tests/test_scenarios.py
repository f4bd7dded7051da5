"""Shipped scenarios validate and run; broken scenario files are refused with exact field paths.

Every file in ``tests/broken/`` is a small variant of ``scenarios/tiny.yaml`` with one deliberate
problem (two files carry several at once). ``marketsim validate`` and ``marketsim run`` must
exit 2 and print one ``FILE: field.path: message`` line per problem, never a traceback.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from experiments.check import check
from experiments.cli.main import EXIT_BAD_INPUT, main
from experiments.files import load_scenario
from experiments.stats import totals
from sim.errors import ScenarioError
from sim.kpis import ALL_REGIONS
from sim.scenario import Scenario, local_lane
from tests.helpers import new_model

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = ROOT / "scenarios"
BROKEN_DIR = Path(__file__).resolve().parent / "broken"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))
ROOT_PATH = "<root>"  # how a problem with the whole file is reported

# (file in tests/broken, expected field path, expected message substring)
CASES = [
    ("unknown_top_level_key.yaml", "budget", "unknown field"),
    ("unknown_nested_key.yaml", "regions[0].fx.volatility", "unknown field"),
    ("wrong_type.yaml", "horizon_days", "valid integer"),
    ("negative_population.yaml", "regions[0].population", "greater than or equal to 1"),
    (
        "delivery_rate_cap_below_one.yaml",
        "regions[0].experience.delivery_rate_max_factor",
        "greater than or equal to 1",
    ),
    (
        "fx_volatility_out_of_range.yaml",
        "regions[0].fx.daily_volatility",
        "less than or equal to 0.2",
    ),
    ("segment_shares.yaml", "regions[0].segments", "shares must sum to 1, got 0.9"),
    (
        "payment_preferences_sum.yaml",
        "regions[0].segments[0].payment_preferences",
        "must sum to 1, got 0.9",
    ),
    ("lane_unknown_region.yaml", "lanes[0].destination", "unknown region 'XB'"),
    (
        "competitor_unknown_category.yaml",
        "competitors[0].offers[0].category",
        "unknown category 'garden'",
    ),
    ("unknown_strategy_name.yaml", "strategies.pricing.name", "valid: ['"),
    ("unknown_strategy_param.yaml", "strategies.pricing.params.margin", "unknown parameter"),
    ("strategy_param_out_of_bounds.yaml", "strategies.pricing.params.markup", "<= 5, got 9.0"),
    ("seasonality_11_numbers.yaml", "regions[0].seasonality", "at least 12 items"),
    ("lognormal_missing_sd.yaml", "lanes[0].stages[0].service_hours.sd", "required field"),
    ("unknown_dist.yaml", "lanes[0].stages[1].service_hours", "'gamma'"),
    ("disruption_end_before_start.yaml", "lanes[0].disruptions[0].end_day", "start_day < end_day"),
    (
        "inventory_unknown_warehouse.yaml",
        "firm.inventory_policy[0].warehouse",
        "unknown warehouse 'DE'",
    ),
    (
        "opening_stock_unknown_product.yaml",
        "firm.warehouses[0].initial_units_by_product.vase",
        "unknown product; known: ['mug', 'lamp']",
    ),
    ("entry_day_unknown_region.yaml", "firm.entry_day_by_region.XB", "unknown region"),
    ("trial_pack_unknown_region.yaml", "firm.trial_pack.regions[1]", "unknown region"),
    ("absurd_population.yaml", "regions[*].population", "GiB"),
    ("absurd_population.yaml", "regions[0].population", "at most 200,000,000 consumers"),
    ("invalid_yaml_syntax.yaml", ROOT_PATH, "invalid YAML at line 14"),
    ("yaml_alias.yaml", ROOT_PATH, "aliases"),
    ("top_level_list.yaml", ROOT_PATH, "expected a mapping at the top level, got list"),
    ("missing_horizon.yaml", "horizon_days", "required field is missing"),
]

# Files with several problems: every one of them must be reported, and nothing else.
MULTI = {
    "several_schema_problems.yaml": [
        ("budget", "unknown field"),
        ("regions[0].population", "greater than or equal to 1"),
        ("regions[0].fx.daily_volatility", "less than or equal to 0.2"),
        ("lanes[0].stages[0].service_hours.sd", "required field is missing"),
    ],
    "several_reference_problems.yaml": [
        ("lanes[0].destination", "unknown region 'XB'"),
        ("competitors[0].offers[0].category", "unknown category 'garden'"),
        ("firm.inventory_policy[0].warehouse", "unknown warehouse 'DE'"),
        ("strategies.pricing.params.margin", "unknown parameter"),
    ],
}


def problems(stderr: str, path: Path) -> list[tuple[str, str]]:
    """``(field path, message)`` of every ``FILE: path: message`` line naming ``path``."""
    prefix = f"{path}: "
    out = []
    for line in stderr.splitlines():
        if line.startswith(prefix):
            field, sep, message = line[len(prefix) :].partition(": ")
            assert sep, f"no `path: message` in {line!r}"
            out.append((field, message))
    return out


def assert_clean(captured: pytest.CaptureResult[str]) -> None:
    """No traceback and no exception text leaked to the user."""
    text = captured.out + captured.err
    assert "Traceback" not in text
    assert "Error:" not in text  # e.g. `ValidationError:` / `KeyError:` from an uncaught raise


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert_clean(captured)
    return code, captured.err


# ---------------------------------------------------------------------------- shipped scenarios
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_validates(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert_clean(captured)
    assert code == 0, captured.err
    assert f"{path}: ok" in captured.out


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_runs_30_days(path: Path) -> None:
    frame = new_model(load_scenario(path), days=30).run()
    total = frame[frame["region"] == ALL_REGIONS]
    assert len(total) == 30
    revenue = float(total["revenue_base"].sum())
    assert math.isfinite(revenue)
    assert revenue > 0
    assert total["orders"].sum() >= 1


def test_default_years_are_sensible() -> None:
    """`make demo`'s scenario over two years: the entry year is a loss (launches, awareness
    built from nothing) that cash and credit carry; once established (year 2) the net margin
    is thin, as DOMAIN says ("typical cross-border net margin is under 5%"; the check's
    range is -5% to +5%; -1.7% at the scenario seed when calibrated with the measured
    translation and consent penalties, -1.4% with marketing at 8% of revenue in year 2).
    Since costs follow the business (branch v22) the fact is the mean over replications.
    Re-derived on the whole market (the check's scale; branch c23, markup 0.65, the home
    warehouse a 3PL): 20 paired replications x 730 days (the check's seeds, reps 0-19) give
    a mean of 1.2% [-1.2%, 3.7%] and one replication's sd 5.25 points, so one seed is held to
    1.2% +- 2 sd (5.0% at this seed)."""
    sc = load_scenario(SCENARIO_DIR / "default.yaml")
    frame = new_model(sc.model_copy(update={"horizon_days": 730})).run()
    every = frame[frame["region"] == ALL_REGIONS]
    year1, year2 = every[every["day"] < 365], every[every["day"] >= 365]
    assert year1["net_profit_base"].sum() < 0 < year1["revenue_base"].sum()
    assert year1["spending_stopped"].sum() == 0  # the entry year never runs out of money
    margin = year2["net_profit_base"].sum() / year2["revenue_base"].sum()
    assert abs(margin - 0.012) <= 2 * 0.0525, f"year-2 net margin {margin:.1%}"
    table = totals(frame[frame["day"] < 365])
    for region, row in table.items():
        assert 0.02 <= row["market_share"] <= 0.30, (region, row["market_share"])
        assert 0.0 < row["on_time_rate"] < 1.0, (region, row["on_time_rate"])
        assert row["fill_rate"] > 0.8, (region, row["fill_rate"])
    for region, rows in frame[frame["region"] != ALL_REGIONS].groupby("region"):
        daily_orders = rows["orders"].tail(30).mean()
        # lanes keep up: what is in transit at the end is a few days of orders, not a backlog
        assert rows["in_transit"].iloc[-1] < 15 * daily_orders, region


ENTRY_SCENARIOS = ("sea_entry", "eu_eco_entry", "latam_entry", "kenya_entry")


@pytest.mark.slow  # one 730-day run and the check's 20 at full scale each (~5-10 min): the
# margin needs the full population, since fixed costs and marketing do not shrink with a slice
@pytest.mark.parametrize("name", ENTRY_SCENARIOS)
def test_entry_scenario_years_are_sensible(name: str) -> None:
    """The other shipped scenarios over two years. At their own seed: cash and credit carry
    the entry (spending never stops) and the first year's newcomer share (orders / inside
    purchases, as `marketsim check newcomer_share`) is within the range the scenario states
    in `expectations:`. The established year's net margin is DOMAIN's "typical cross-border
    net margin is under 5%" as the check judges it: the 95% CI of its 20 paired replications
    (more when that CI is wider than +-2.5 points: kenya_entry, 7 listings, runs ~50) inside
    -5% to +5%. One seed cannot judge it: one replication's sd is 3-6 points (the
    product-market fit is drawn per run; sea_entry's seed 3105 reads 9.3% against a mean of
    2.5%, stop 31), so until stop 31 this test held one seed to the range and failed on
    sea_entry while the fact passed."""
    path = SCENARIO_DIR / f"{name}.yaml"
    sc = load_scenario(path)
    frame = new_model(sc.model_copy(update={"horizon_days": 730})).run()
    every = frame[frame["region"] == ALL_REGIONS]
    year1 = every[every["day"] < 365]
    assert every["spending_stopped"].sum() == 0  # cash and credit never run out
    share = year1["orders"].sum() / year1["market_units"].sum()
    stated = sc.expectations.get("newcomer_share")
    if stated is not None:
        assert stated.low <= share <= stated.high, f"year-1 newcomer share {share:.1%}"
    facts = check([path], level="full", only=["net_margin"], workers=1).facts
    row = facts.set_index("fact").loc["net_margin"]
    assert row["n"] >= 20  # the fact's own floor, more when its CI is wider than +-2.5 points
    assert row["verdict"] == "pass", (
        f"year-2 net margin {row['value']:.1%} [{row['low']:.1%}, {row['high']:.1%}]"
    )


def test_shipped_scenarios_exercise_every_mechanism() -> None:
    """Between them, the shipped scenarios switch on every mechanism of the model."""
    scenarios: list[Scenario] = [load_scenario(p) for p in SCENARIOS if p.stem != "tiny"]
    assert scenarios
    regions = [(sc, r) for sc in scenarios for r in sc.regions]
    lanes = [lane for sc in scenarios for lane in sc.lanes]

    def tags(sc: Scenario) -> set[str]:
        return {t for p in sc.products for t in p.tags}

    assert any(r.fx.daily_volatility > 0 for _, r in regions), "FX volatility"
    assert any(
        r.tax.duty_rate > 0 and r.tax.vat_rate > 0 and r.tax.de_minimis_local > 0
        for _, r in regions
    ), "duty above de minimis + VAT"
    assert any(set(r.taboo_tags) & tags(sc) for sc, r in regions), "taboo tag on a product"
    assert any(len(set(r.seasonality)) > 1 for _, r in regions), "seasonality"
    assert any(
        r.language != sc.firm.source_language and r.choice.machine_translation_penalty > 0
        for sc, r in regions
    ), "machine-translation penalty"
    assert any(
        set(seg.payment_preferences) - set(sc.firm.supported_payment_methods)
        for sc, r in regions
        for seg in r.segments
    ), "payment preferences the firm does not support"
    assert any(r.regulation.consent_penalty > 0 for _, r in regions), "consent penalty"
    assert any(r.regulation.compliance_cost_monthly_base > 0 for _, r in regions), "compliance"
    kinds = {c.behaviour.kind for sc in scenarios for c in sc.competitors}
    assert kinds == {"fixed", "match", "undercut", "best_response"}
    assert any(len(lane.stages) >= 3 for lane in lanes), "multi-stage lane"
    assert any(lane.customs and lane.customs.inspection_probability > 0 for lane in lanes)
    assert any(lane.disruptions for lane in lanes), "scheduled disruption"
    assert any(lane.loss_probability > 0 for lane in lanes), "loss probability"
    assert any(sc.firm.inventory_policy for sc in scenarios), "reorder policy"
    assert any(
        isinstance(ch.budget_monthly_base, list) and len(ch.budget_monthly_base) == 12
        for _, r in regions
        for ch in r.acquisition.channels.values()
    ), "12 monthly marketing budgets per channel"
    assert any(
        r.acquisition.word_of_mouth == "customers" and r.acquisition.forgetting_daily > 0
        for _, r in regions
    ), "word of mouth from customers, forgetting"
    assert any(r.acquisition.budget_rule.kind == "share_of_revenue" for _, r in regions), (
        "marketing budgets that follow revenue"
    )
    assert any(r.entrants_yearly_share > 0 for _, r in regions), "market entrants (growth)"
    assert any(
        r.return_multiplier_by_tag.get("non_durable", 1.0) > 1.0 and "non_durable" in tags(sc)
        for sc, r in regions
    ), "humidity returns of non-durable goods"

    def has_local_option(sc: Scenario) -> bool:
        for wh in sc.firm.warehouses:
            if wh.region is None or wh.replenish_from == "supplier":
                continue
            stock = any(
                lane.carries == "stock"
                and lane.origin == wh.replenish_from
                and lane.destination == wh.region
                for lane in sc.lanes
            )
            local = local_lane(sc, wh.region)
            if stock and local is not None and local.mode == "local":
                return True
        return False

    assert any(has_local_option(sc) for sc in scenarios), "local warehouse with a stock lane"
    exp = [r.experience for _, r in regions]
    assert any(e.late_days_full > 0 and e.late_rate_multiplier < 1 for e in exp), "days late"
    assert any(e.complaint_probability > 0 and e.recovery_max for e in exp), "complaints, recovery"
    assert any(e.restart_clock_at_delivery for e in exp), "rate clock restarts at delivery"
    # no shipped scenario uses the delivery-speed rate factor since stop 28: with the check's
    # warehouse variant financed and stocked, Poland's cycle already more than halves through
    # the delivery weight in choice alone, so wc27's rule gives elasticity 0
    # (docs/validation.md "The warehouse chain at stop 28"); the factor's and its cap's own
    # tests are in tests/test_delivery_rate.py


# ---------------------------------------------------------------------------- broken files
def test_every_broken_file_has_a_case() -> None:
    covered = {name for name, _, _ in CASES} | set(MULTI)
    on_disk = {p.name for p in BROKEN_DIR.glob("*.yaml")}
    assert on_disk == covered
    assert len(on_disk) >= 16


@pytest.mark.parametrize(("filename", "field", "message"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_broken_file_is_refused(
    command: str,
    filename: str,
    field: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    path = BROKEN_DIR / filename
    argv = ["validate", str(path)] if command == "validate" else ["run", str(path)]
    if command == "run":
        argv += ["--out", str(tmp_path / "out")]
    code, err = run_cli(argv, capsys)
    assert code == EXIT_BAD_INPUT
    assert filename in err
    found = problems(err, path)
    assert found, err
    matching = [m for f, m in found if f == field]
    assert matching, f"no problem reported at {field!r}; got {found}"
    assert any(message in m for m in matching), f"{message!r} not in {matching}"
    if command == "run":
        assert not (tmp_path / "out").exists(), "a refused scenario must not write results"


@pytest.mark.parametrize("filename", sorted(MULTI))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_every_problem_is_reported(
    command: str, filename: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = BROKEN_DIR / filename
    argv = ["validate", str(path)]
    if command == "run":
        argv = ["run", str(path), "--out", str(tmp_path / "out")]
    code, err = run_cli(argv, capsys)
    assert code == EXIT_BAD_INPUT
    found = problems(err, path)
    assert len(found) == len(MULTI[filename]), found
    for field, message in MULTI[filename]:
        assert any(f == field and message in m for f, m in found), f"{field}: {message} in {found}"


def test_validate_reports_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    """Several files at once: the good one is ok, each bad one is listed, exit code 2."""
    good = SCENARIO_DIR / "tiny.yaml"
    bad = [BROKEN_DIR / "negative_population.yaml", BROKEN_DIR / "missing_horizon.yaml"]
    code = main(["validate", str(good), *map(str, bad)])
    captured = capsys.readouterr()
    assert_clean(captured)
    assert code == EXIT_BAD_INPUT
    assert f"{good}: ok" in captured.out
    assert problems(captured.err, bad[0]) and problems(captured.err, bad[1])


# ---------------------------------------------------------------------------- hardened inputs
TINY = SCENARIO_DIR / "tiny.yaml"


def tiny_with(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """``scenarios/tiny.yaml`` with ``change`` applied, written to a temporary file."""
    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def tiny_text_with(tmp_path: Path, old: str, new: str) -> Path:
    text = TINY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "changed.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def refusal(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [(p.path, p.message) for p in info.value.problems]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = data
        for part in parents:
            node = node[part]
        node[last] = value

    return change


@pytest.mark.parametrize("value", [3, "XA", None, {"id": "XA"}])
def test_regions_of_the_wrong_type_name_the_field(tmp_path: Path, value: Any) -> None:
    found = refusal(tiny_with(tmp_path, _set("regions", value)))
    assert [p for p, _ in found] == ["regions"], found


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("regions.0.segments.0.quality_weight", 3651.0, "less than or equal to 100"),
        ("regions.0.segments.0.eco_weight", -3651.0, "greater than or equal to -100"),
        ("lanes.0.stages.0.service_hours.sd", 1e308, "less than or equal to 100000"),
        ("lanes.0.last_mile_days", {"dist": "lognormal", "mean": 1e-6, "sd": 1.0}, "100 x mean"),
        ("regions.0.seasonality", [1e6] * 12, "less than or equal to 5"),
        ("regions.0.repeat.alpha_days", 0.01, "at most 1 per day"),
        ("lanes.0.cost_per_shipment_base", 1e300, "less than or equal to 1000000000000"),
        ("lanes.0.cost_per_unit_base", 1e200, "less than or equal to 1000000000000"),
        ("regions.0.fx.local_per_base", 1e-300, "greater than or equal to 0.000000001"),
    ],
)
def test_values_the_model_cannot_run_are_refused(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    found = refusal(tiny_with(tmp_path, _set(field, value)))
    expected = re.sub(r"\.(\d+)", r"[\1]", field)
    assert all(path.startswith(expected) for path, _ in found), found
    assert message in found[0][1], found


def test_huge_integer_strategy_parameter_is_a_strategy_problem(tmp_path: Path) -> None:
    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    data["strategies"]["pricing"] = {"name": "cost_plus", "params": {"markup": 10**400}}
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)  # a mapping from Python: no YAML-level number limit applies
    found = [(p.path, p.message) for p in info.value.problems]
    assert found[0][0] == "strategies.pricing.params.markup", found
    assert len(found[0][1]) < 200
    change = _set("strategies.pricing", {"name": "cost_plus", "params": {"markup": 10**30}})
    assert "out of range" in refusal(tiny_with(tmp_path, change))[0][1]


@pytest.mark.parametrize("depth", [65, 1_000, 50_000])
@pytest.mark.parametrize("style", ["flow_list", "flow_map", "block"])
def test_deep_nesting_is_refused_quickly(tmp_path: Path, depth: int, style: str) -> None:
    if style == "flow_list":
        nested = "[" * depth + "]" * depth
    elif style == "flow_map":
        nested = "{a: " * depth + "1" + "}" * depth
    else:
        nested = "\n" + "".join(" " * (d + 2) + "- " * 0 + "k:\n" for d in range(min(depth, 1500)))
    path = tiny_text_with(tmp_path, "description:", f"nested: {nested}\ndescription:")
    start = time.perf_counter()
    found = refusal(path)
    assert time.perf_counter() - start < 1.0
    assert "deeper than 64" in found[0][1], found


def test_deep_compact_sequences_are_refused(tmp_path: Path) -> None:
    path = tiny_text_with(tmp_path, "description:", "nested:\n" + "- " * 50_000 + "1\ndescription:")
    start = time.perf_counter()
    found = refusal(path)
    assert time.perf_counter() - start < 2.0
    assert "deeper than 64" in found[0][1], found


@pytest.mark.parametrize(
    "tagged",
    ["!!timestamp not-a-date", "!!int abc", "!!float zz", "!!binary '###'", "!custom x", "!!str 7"],
)
def test_explicit_tags_are_refused(tmp_path: Path, tagged: str) -> None:
    found = refusal(tiny_text_with(tmp_path, "horizon_days: 60", f"horizon_days: {tagged}"))
    assert "tags" in found[0][1] and "line " in found[0][1], found


def test_bad_timestamps_and_huge_numbers_are_field_problems(tmp_path: Path) -> None:
    found = refusal(tiny_text_with(tmp_path, "horizon_days: 60", "horizon_days: 2024-13-45"))
    assert found[0][0] == "horizon_days", found
    found = refusal(tiny_text_with(tmp_path, "horizon_days: 60", "horizon_days: " + "9" * 5000))
    assert "out of range" in found[0][1] and len(found[0][1]) < 200, found


def test_huge_strings_are_refused_and_never_echoed(tmp_path: Path) -> None:
    found = refusal(tiny_text_with(tmp_path, "name: tiny", "name: " + "x" * 1_000_000))
    assert "at most 10,000" in found[0][1]
    assert all(len(message) < 300 for _, message in found)
    found = refusal(tiny_text_with(tmp_path, "name: tiny", "name: " + "x" * 9_000))
    assert found[0][0] == "name" and len(found[0][1]) < 300, found


def test_control_characters_are_escaped_with_a_field_path(tmp_path: Path) -> None:
    found = refusal(tiny_with(tmp_path, _set("name", "bad\x1b[31mname\x85")))
    assert found[0][0] == "name", found
    assert "\x1b" not in found[0][1] and "\\x1b" in found[0][1], found
    found = refusal(tiny_with(tmp_path, _set("regions.0.fx.bad\x1bkey", 1)))
    assert found[0][0] == "regions[0].fx.bad\\x1bkey", found
    found = refusal(tiny_text_with(tmp_path, "name: tiny", "name: ti\x07ny"))
    assert "line 1" in found[0][1] or "line " in found[0][1], found
    assert "\x07" not in found[0][1], found


def test_unreadable_file_is_a_scenario_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def deny(self: Path, *args: Any, **kwargs: Any) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", deny)
    found = refusal(TINY)
    assert found == [("", "cannot read the scenario file (Permission denied)")], found
