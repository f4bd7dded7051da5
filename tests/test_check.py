"""`marketsim check`: exit codes, the fact registry, the full level on a small world."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import yaml

from experiments.check import CheckResult, check, facts, levers, runs, theory
from experiments.check.runs import repeat_statistics, scale_market
from experiments.cli.main import main
from sim.errors import ScenarioError, UsageError
from tests.helpers import ROOT, TINY_PATH, load_tiny

#: every stylized fact issue 12 lists (its table, in order)
ISSUE_12_FACTS = (
    "annual_churn",
    "repurchase_rate",
    "late_delivery_repeat",
    "machine_translation",
    "consent_flow",
    "eco_premium",
    "cod_instalments_lift",
    "mobile_money_success",
    "warehouse_cycle",
    "rfm_win_back",
    "listing_success",
    "trial_pack",
    "bundles",
    "market_growth",
    "net_margin",
    "newcomer_share",
)
VERDICTS = ("pass", "fail", "not measurable: ", "not applicable: ")


def _fast_theory(monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> None:
    """Only the cheap theory checks (the full list runs in test_theory.py and `make test`);
    with ``fail``, one of them is fed a model that does not follow its theory."""

    def wrong_q(d: dict) -> None:
        d["regions"][0]["awareness"]["q_daily"] = 0.12

    def cheap() -> list[theory.TheoryCheck]:
        rows = [theory.logit_sampler(), theory.bertrand_nash()]
        return [*rows, theory.bass_awareness(perturb=wrong_q)] if fail else rows

    monkeypatch.setattr(theory, "run_theory_checks", cheap)


# ----------------------------------------------------------------------------- exit codes
def test_quick_check_passes_with_exit_0(monkeypatch, capsys) -> None:
    _fast_theory(monkeypatch)
    assert main(["check", str(TINY_PATH)]) == 0
    out = capsys.readouterr().out
    assert "logit_sampler" in out and "fact registry: ok" in out and "check: PASS" in out


def test_a_failed_theory_check_exits_1(monkeypatch, capsys) -> None:
    _fast_theory(monkeypatch, fail=True)
    assert main(["check", str(TINY_PATH)]) == 1
    out = capsys.readouterr().out
    assert "bass_awareness" in out and "check: FAIL (1 failed)" in out


def test_an_internal_error_is_not_a_failed_check(monkeypatch, capsys) -> None:
    """A bug inside the suite exits 70, never 1: a script can tell a broken run from a fail."""

    def broken() -> list[theory.TheoryCheck]:
        raise RuntimeError("boom")

    monkeypatch.setattr(theory, "run_theory_checks", broken)
    assert main(["check", str(TINY_PATH)]) == 70
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err


def test_bad_input_exits_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert main(["check", str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err
    assert main(["check", "--full", "--reps", "1"]) == 2
    assert "--reps" in capsys.readouterr().err
    assert main(["check", "--full", "--population-scale", "2"]) == 2
    with pytest.raises(UsageError):
        check(level="medium")  # type: ignore[arg-type]


def test_out_folder_is_written_and_rewritten(monkeypatch, tmp_path) -> None:
    _fast_theory(monkeypatch)
    out = tmp_path / "chk"
    for _ in range(2):  # a rerun replaces an earlier check's tables
        assert main(["check", str(TINY_PATH), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "check" and summary["passed"] is True
    assert (out / "theory.csv").read_text().startswith("check,what,theory,model")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(["check", str(TINY_PATH), "--out", str(other)]) == 2


# ----------------------------------------------------------------------------- the registry
def test_registry_declares_every_issue_12_fact() -> None:
    assert set(ISSUE_12_FACTS) <= set(facts.FACT_BY_ID), sorted(
        set(ISSUE_12_FACTS) - set(facts.FACT_BY_ID)
    )
    assert facts.registry_problems() == []
    for f in facts.FACTS:  # a fact without a measure says what is missing, never a value
        assert (f.measure is None) == bool(f.missing), f.id


def test_registry_sanity_catches_bad_declarations() -> None:
    bad = (
        facts.Fact("x", "claim", "1%", 0.3, 0.1, "def", measure=facts.churn),
        facts.Fact("y", "claim", "1%", None, None, "def"),
        facts.Fact("y", "", "1%", 0.1, 0.2, "def", missing="m", needs=("nope",)),
        facts.Fact("z", "claim", "1%", 0.1, 0.2, "def", measure=facts.churn, precision=0.25),
    )
    problems = "\n".join(facts.registry_problems(bad))
    texts = ("low <= high", "either a measure", "declared twice", "DOMAIN text", "nope", "max_reps")
    for text in texts:
        assert text in problems, problems


# ----------------------------------------------------------------------------- measures
def test_repeat_statistics_small_case() -> None:
    # customer (0,1): days 0, 10, 40; customer (0,2): day 5; customer (1,1): days 90, 200
    region = np.array([0, 0, 0, 0, 1, 1])
    consumer = np.array([1, 2, 1, 1, 1, 1])
    day = np.array([0, 5, 10, 40, 90, 200])
    s = repeat_statistics(region, consumer, day, days=250, window_days=100)
    # cohort: first orders before day 150 -> all three; repeated within 100 days: (0,1) only
    assert s == {"cohort": 3.0, "repeaters": 1.0}


def test_scale_market_keeps_awareness_per_consumer() -> None:
    d = load_tiny()
    d["regions"][0]["awareness"] = {"p_per_1k_spend_daily": 0.002}
    d["firm"]["marketing_budget_monthly_base"] = {"XA": 1000.0}
    pop = d["regions"][0]["population"]
    scale_market(d, 0.25)
    assert d["regions"][0]["population"] == round(pop * 0.25)
    assert d["regions"][0]["awareness"]["p_per_1k_spend_daily"] == pytest.approx(0.008)
    assert d["firm"]["marketing_budget_monthly_base"]["XA"] == pytest.approx(250.0)


def test_scale_market_scales_firm_amounts_but_not_rates_per_unit() -> None:
    """A slice of the market has a slice of the firm's fixed amounts (cash and credit too),
    but a unit held for a day costs what it costs (these were scaled before, making holding
    4x too cheap in a x0.25 slice)."""
    d = yaml.safe_load((ROOT / "scenarios" / "default.yaml").read_text())
    firm = d["firm"]
    before = (
        firm["fixed_costs_monthly_base"],
        firm["finance"]["credit_limit_base"],
        firm["warehouses"][1]["holding_cost_per_unit_day_base"],
        firm["launch"]["destination_holding_cost_per_unit_day_base"],
    )
    scale_market(d, 0.25)
    after = (
        firm["fixed_costs_monthly_base"],
        firm["finance"]["credit_limit_base"],
        firm["warehouses"][1]["holding_cost_per_unit_day_base"],
        firm["launch"]["destination_holding_cost_per_unit_day_base"],
    )
    assert after == (before[0] * 0.25, before[1] * 0.25, before[2], before[3])


def test_lever_verdicts() -> None:
    up = levers.Expectation("net_profit_base", 1, "s")
    down = levers.Expectation("churn_per_customer_year", -1, "s")
    assert levers.lever_verdict(up, 1.0, 2.0) == "pass"
    assert levers.lever_verdict(down, -2.0, -1.0) == "pass"
    assert levers.lever_verdict(down, 1.0, 2.0) == "fail: wrong direction"
    assert levers.lever_verdict(up, -1.0, 2.0) == "fail: no significant effect"
    assert levers.lever_verdict(None, 1.0, 2.0).startswith("not measurable")


# ----------------------------------------------------------------------------- full level
def test_full_level_on_a_small_world(monkeypatch) -> None:
    """Every applicable fact and every lever gets a row with an allowed verdict; rows that
    cannot be measured carry no value; the check's verdict follows its rows."""
    _fast_theory(monkeypatch)
    every = {lv.id: lv for lv in levers.built_in_levers()}
    chosen = [every[k] for k in ("retention=win_back", "selection=all_products", "no_marketing")]
    monkeypatch.setattr(levers, "built_in_levers", lambda: chosen)
    result = check([TINY_PATH], level="full", reps=2, days=90, workers=1)
    assert isinstance(result, CheckResult)
    assert set(result.facts["fact"]) == {f.id for f in facts.FACTS if f.applies_to("tiny")}
    for r in result.facts.to_dict(orient="records"):
        assert r["verdict"].startswith(VERDICTS), r
        if r["fact"] == "bundles":
            assert r["verdict"].startswith("not measurable") and np.isnan(r.get("value", np.nan))
    win_back = result.facts.set_index("fact").loc["rfm_win_back"]  # tracked per tier
    assert 0 <= win_back["value"] < 1 and "care" in win_back["note"]
    churn = result.facts.set_index("fact").loc["annual_churn"]
    assert 0 < churn["low"] <= churn["value"] <= churn["high"]
    assert list(result.levers["lever"]) == [lv.id for lv in chosen]
    assert result.levers["verdict"][1].startswith("not applicable")  # tiny lists everything
    assert all(str(v).startswith(VERDICTS) for v in result.levers["verdict"])
    failed = [r for r in result.facts["verdict"] if r == "fail"] + [
        r for r in result.levers["verdict"] if str(r).startswith("fail")
    ]
    assert result.passed == (not failed)
    assert len(result.failures()) == len(failed)


def test_paired_runs_share_seeds() -> None:
    """Replication k of every variant uses SeedSequence([seed, 0, k]): a variant that differs
    from the baseline only in its description gives identical runs; an equal one is not run
    again."""
    from experiments.executors import LocalExecutor
    from experiments.files import load_scenario

    sc = load_scenario(TINY_PATH)
    with LocalExecutor(1) as ex:
        got = runs.run_variants(
            {"baseline": sc, "same": sc.model_copy(update={"description": "a copy"}), "equal": sc},
            2,
            seed=4,
            days=30,
            window_days=10,
            executor=ex,
        )
    assert got["equal"] is got["baseline"]  # an equal scenario reuses the runs
    for a, b in zip(got["baseline"], got["same"], strict=True):
        assert a.kpis.equals(b.kpis) and a.repeat == b.repeat
    assert not got["baseline"][0].kpis.equals(got["baseline"][1].kpis)


def test_variants_run_their_own_replication_counts() -> None:
    """A per-variant count runs each variant that many times; the shorter list is the first
    replications of the longer one's seeds (still paired)."""
    from experiments.executors import LocalExecutor
    from experiments.files import load_scenario

    sc = load_scenario(TINY_PATH)
    copy = sc.model_copy(update={"description": "a copy"})
    with LocalExecutor(1) as ex:
        got = runs.run_variants(
            {"baseline": sc, "same": copy}, {"baseline": 3, "same": 1},
            seed=4, days=30, window_days=10, executor=ex,
        )  # fmt: skip
    assert [s.rep for s in got["baseline"]] == [0, 1, 2] and [s.rep for s in got["same"]] == [0]
    assert got["same"][0].kpis.equals(got["baseline"][0].kpis)


def _annual_churn_with(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """The cheap theory checks, 2 replications by default, and annual_churn's declaration
    changed as given (its floor, its precision)."""
    import dataclasses

    from experiments.check import suite

    _fast_theory(monkeypatch)
    changed = tuple(
        dataclasses.replace(f, **changes) if f.id == "annual_churn" else f for f in facts.FACTS
    )
    monkeypatch.setattr(facts, "FACTS", changed)
    monkeypatch.setitem(suite.FULL_DEFAULTS, "reps", 2)


def test_a_fact_is_judged_on_its_own_replication_floor(monkeypatch) -> None:
    """Without --reps a fact runs at least its min_reps replications (the others and the
    levers at the default); an explicit --reps applies to every row."""
    _annual_churn_with(monkeypatch, min_reps=3)
    only = ["annual_churn", "repurchase_rate", "marketing_x3"]
    kw = {"level": "full", "days": 60, "workers": 1, "only": only}
    by_floor = check([TINY_PATH], **kw)
    rows = by_floor.facts.set_index("fact")
    assert rows.loc["annual_churn", "n"] == 3 and rows.loc["repurchase_rate", "n"] == 2
    assert by_floor.levers["n"].tolist() == [2]
    at_three = check([TINY_PATH], reps=3, **kw).facts.set_index("fact")
    assert at_three.loc["annual_churn", "value"] == rows.loc["annual_churn", "value"]
    assert at_three.loc["repurchase_rate", "n"] == 3  # an explicit --reps: every row
    at_two = check([TINY_PATH], reps=2, **kw).facts.set_index("fact")
    assert at_two.loc["repurchase_rate", "value"] == rows.loc["repurchase_rate", "value"]
    assert at_two.loc["annual_churn", "n"] == 2


def test_a_lever_is_judged_on_its_own_replication_floor(monkeypatch) -> None:
    """Without --reps a lever runs its variant and the baseline at least its min_reps times
    (no_marketing's paired effect spreads with the hidden product-market fit); the other
    levers stay at --reps, and the floored lever's first replications stay paired."""
    import dataclasses

    from experiments.check import suite

    _fast_theory(monkeypatch)
    built = levers.built_in_levers
    monkeypatch.setattr(
        levers,
        "built_in_levers",
        lambda: [dataclasses.replace(lv, min_reps=3 * (lv.id == "no_marketing")) for lv in built()],
    )
    monkeypatch.setitem(suite.FULL_DEFAULTS, "reps", 2)
    kw = {"level": "full", "days": 60, "workers": 1, "only": ["no_marketing", "marketing_x3"]}
    rows = check([TINY_PATH], **kw).levers.set_index("lever")
    assert rows.loc["no_marketing", "n"] == 3 and rows.loc["marketing_x3", "n"] == 2
    at_three = check([TINY_PATH], reps=3, **kw).levers.set_index("lever")
    assert at_three.loc["no_marketing", "effect"] == rows.loc["no_marketing", "effect"]
    assert at_three.loc["marketing_x3", "n"] == 3  # an explicit --reps: every row


def test_two_stage_reps_reaches_the_half_width_it_is_asked_for() -> None:
    """Stein's rule: the count whose t-interval at the first stage's sd has at most the asked
    half-width, and the count just below it does not; never fewer than were run."""
    from scipy import stats as sps

    from experiments.stats import two_stage_reps

    x = 0.1 * np.array([-1.0, 1.0] * 10)  # sd 0.1 x sqrt(20 / 19) = 0.1026
    n = two_stage_reps(x, 0.025)
    t0 = sps.t.ppf(0.975, 19)
    assert t0 * x.std(ddof=1) / np.sqrt(n) <= 0.025 < t0 * x.std(ddof=1) / np.sqrt(n - 1)
    assert n == 74  # (2.0930 x 0.10260 / 0.025)^2 = 73.78, by hand
    assert two_stage_reps(x, 1.0) == 20  # already narrow enough
    assert two_stage_reps(x[:1], 0.025) == 1  # no spread to judge from


def test_a_wide_fact_gets_a_second_stage_of_the_same_seeds(monkeypatch) -> None:
    """Without --reps, a fact with a precision target whose first-stage CI is wider runs more
    replications (at most its max_reps), continuing the same seeds: its value equals an
    explicit --reps run of that count. With --reps given there is no second stage."""
    _annual_churn_with(monkeypatch, precision=1e-6, max_reps=4)
    kw = {"level": "full", "days": 60, "workers": 1, "only": ["annual_churn", "repurchase_rate"]}
    rows = check([TINY_PATH], **kw).facts.set_index("fact")
    assert rows.loc["annual_churn", "n"] == 4 and rows.loc["repurchase_rate", "n"] == 2
    at_four = check([TINY_PATH], reps=4, **kw).facts.set_index("fact")
    assert at_four.loc["annual_churn", "value"] == rows.loc["annual_churn", "value"]
    assert at_four.loc["annual_churn", "high"] == rows.loc["annual_churn", "high"]
    at_two = check([TINY_PATH], reps=2, **kw).facts.set_index("fact")
    assert at_two.loc["annual_churn", "n"] == 2  # an explicit --reps: no second stage


# ----------------------------------------------------------------------------- expectations
def _stated_fact() -> facts.Fact:
    """A fact without a DOMAIN range whose measure gives three replications near 5.5%."""
    values = np.array([0.05, 0.06, 0.055])
    return facts.Fact(
        "newcomer_share",
        "a newcomer's share",
        "stated per scenario",
        None,
        None,
        "units share",
        measure=lambda ctx: facts.Measurement(values),
    )


@pytest.mark.parametrize(
    ("stated", "verdict"),
    [(None, "not measurable"), ((0.02, 0.08), "pass"), ((0.10, 0.20), "fail")],
)
def test_a_scenario_states_the_range_of_a_fact_domain_leaves_open(stated, verdict) -> None:
    from experiments.check.suite import fact_row
    from tests.helpers import make_scenario

    def state(d: dict) -> None:
        if stated:
            d["expectations"] = {
                "newcomer_share": {"low": stated[0], "high": stated[1], "source": "why"}
            }

    ctx = facts.FactContext(make_scenario(state), {"baseline": []}, 365, 365)
    row = fact_row(_stated_fact(), ctx)
    assert row["verdict"].startswith(verdict)
    if stated:
        assert row["range"] != "-" and "range stated by the scenario: why" in row["note"]


@pytest.mark.parametrize("key", ["no_such_fact", "annual_churn"])
def test_expectations_only_for_known_facts_without_a_domain_range(key) -> None:
    from experiments.check.suite import validate_expectations
    from tests.helpers import make_scenario

    def state(d: dict) -> None:
        d["expectations"] = {key: {"low": 0.1, "high": 0.2, "source": "why"}}

    with pytest.raises(ScenarioError, match=f"my.yaml: expectations.{key}: "):
        validate_expectations(make_scenario(state), "my.yaml")


def test_expectation_problems_of_facts_and_levers_are_reported_together() -> None:
    from experiments.check.suite import validate_expectations
    from tests.helpers import make_scenario

    def state(d: dict) -> None:
        d["expectations"] = {"no_such_fact": {"low": 0.1, "high": 0.2, "source": "why"}}
        d["lever_expectations"] = {
            "no_such_lever": {"kpi": "gross_margin", "direction": "down", "source": "why"}
        }

    with pytest.raises(ScenarioError) as info:
        validate_expectations(make_scenario(state), "my.yaml")
    fields = [p.path for p in info.value.problems]
    assert fields == ["lever_expectations.no_such_lever", "expectations.no_such_fact"]
    assert all(p.source == "my.yaml" for p in info.value.problems)


def test_only_runs_the_named_facts_and_levers(monkeypatch) -> None:
    _fast_theory(monkeypatch)
    result = check(
        [TINY_PATH], level="full", reps=2, days=60, workers=1, only=["annual_churn", "no_marketing"]
    )
    assert list(result.facts["fact"]) == ["annual_churn"]
    assert list(result.levers["lever"]) == ["no_marketing"]
    with pytest.raises(UsageError, match="unknown fact or lever 'nope'"):
        check([TINY_PATH], level="full", reps=2, days=60, workers=1, only=["nope"])


def test_every_shipped_scenario_runs_its_full_check_variants() -> None:
    """`marketsim check --full` runs every fact and lever variant of each shipped scenario: a
    variant the scenario cannot take (kenya_entry had no e-wallet fee rate for the
    `localization=invest` lever's first decision) stopped the whole check with exit 2. Each
    variant runs its first decision days on a tiny slice of the market."""
    import numpy as np

    from experiments.check.runs import edit_scenario
    from experiments.check.suite import SCENARIOS_DIR, SHIPPED, _variants
    from experiments.files import load_scenario
    from experiments.replications import build_model

    for name in SHIPPED:
        sc = load_scenario(SCENARIOS_DIR / name)
        tiny = edit_scenario(sc, lambda d: runs.scale_market(d, 0.001), "tiny slice")
        applicable = [f for f in facts.FACTS if f.applies_to(sc.name)]
        for variant in _variants(tiny, applicable, levers.built_in_levers()).values():
            build_model(variant, np.random.SeedSequence(0), 3).run()  # raises on a bad variant


def test_noisy_levers_run_on_twenty_replications() -> None:
    """The levers whose paired effect the hidden product-market fit draws (the marketing
    budget's return, the selection strategies' write-offs and launches) and the warehouse's
    small churn effect are judged on 20 replications, as net_margin and the listing facts;
    every other lever on --reps (local_warehouse shares the warehouse variant, judged on
    its first 5)."""
    floors = {lv.id: lv.min_reps for lv in levers.built_in_levers()}
    twenty = {
        "no_marketing",
        "selection=three_factor",
        "selection=stop_loss",
        "local_warehouse_churn",
    }
    assert {k for k, n in floors.items() if n} == twenty
    assert {floors[k] for k in twenty} == {20}
