"""The fact variants' scenario edits (experiments/check/variants.py): what each one changes."""

from __future__ import annotations

from pathlib import Path

from experiments.check import variants
from experiments.files import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_late_variant_delivers_six_days_past_the_promise_on_slow_promises() -> None:
    """Old code: the late variant added 6 days to every last mile, so LatAm's sea lanes (55-
    and 40-day promises, delivering in ~44 and ~30 days) stayed on time. Now every order lane
    of every shipped scenario is expected 6 days past its promise, promises unchanged."""
    for name in ("default", "latam_entry", "eu_eco_entry"):
        base = load_scenario(SCENARIOS / f"{name}.yaml")
        late = variants.late_deliveries(base)
        assert late is not None
        for before, after in zip(base.lanes, late.lanes, strict=True):
            assert after.promised_days == before.promised_days
            if before.carries != "orders":
                continue
            mean = variants.expected_delivery_days(after.model_dump(mode="json"))
            assert mean >= after.promised_days + variants.LATE_EXTRA_DAYS - 1e-9, (name, after.id)


def test_trial_pack_variant_carries_the_followup_coupon() -> None:
    """The trial_pack fact's variant runs DOMAIN's $9.9 pack with its follow-up coupon."""
    base = load_scenario(SCENARIOS / "default.yaml")
    pack = variants.trial_pack(base)
    assert pack is not None and pack.firm.trial_pack is not None
    assert pack.firm.trial_pack.price_base == 9.9
    follow = pack.firm.trial_pack.followup
    assert follow is not None and follow.response_probability > 0


def test_trial_pack_variant_is_financed() -> None:
    """Old code: the variant kept default's 250,000 USD credit line, which the packs used up
    (spending stopped for months, follow-ups skipped). Now its credit line is unlimited and
    nothing else in the firm's finance changes."""
    base = load_scenario(SCENARIOS / "default.yaml")
    pack = variants.trial_pack(base)
    assert pack is not None and base.firm.finance.credit_limit_base is not None
    assert pack.firm.finance.credit_limit_base is None
    rest = {"credit_limit_base"}
    assert pack.firm.finance.model_dump(exclude=rest) == base.firm.finance.model_dump(exclude=rest)


def test_penetration_lever_ramps_back_to_the_baselines_markup() -> None:
    """Old code: the lever ran penetration at its defaults (ramp to markup 0.6), so on
    gulf_entry (cost-plus 0.5) it compared a launch discount followed by dearer prices for
    670 days, and on eu_eco_entry (1.0) one followed by cheaper prices; now only the
    discount differs, per region where the baseline's markup is per region."""
    from experiments.check.levers import built_in_levers

    lever = next(lv for lv in built_in_levers() if lv.id == "pricing=penetration")
    for name, markup in (("gulf_entry", 0.5), ("eu_eco_entry", 1.0)):
        base = load_scenario(SCENARIOS / f"{name}.yaml")
        built = lever.build(base)
        assert built is not None and built.strategies.pricing.name == "penetration"
        params = dict(built.strategies.pricing.params)
        assert params["target_markup"] == markup == base.strategies.pricing.params["markup"]
        assert params["fx_pass_through"] == base.strategies.pricing.params["fx_pass_through"]

    def per_region(d: dict) -> None:
        d["strategies"]["pricing"] = {"name": "cost_plus", "params": {"markup": {"XA": 0.9}}}

    from tests.helpers import make_scenario

    base = make_scenario(per_region)
    built = variants.penetration(base)
    assert built is not None
    assert dict(built.strategies.pricing.params)["target_markup"] == {"XA": 0.9}


def test_penetration_reads_a_per_region_target_markup() -> None:
    """target_markup may be a mapping region -> markup (old code: refused, one number)."""
    import numpy as np

    from strategies.registry import create
    from strategies.testing import default_scenarios, views_of

    (view,) = views_of(default_scenarios()[0], days=(0,), horizon_days=1)
    rng = np.random.default_rng(0)

    def prices(markup: object) -> np.ndarray:
        strategy = create("pricing", "penetration", {"target_markup": markup})
        return np.asarray(strategy.decide(view, rng).prices_local["XA"])

    np.testing.assert_allclose(prices({"XA": 0.9}), prices(0.9))
    np.testing.assert_allclose(prices({"XA": 0.9}) / prices(0.6), 1.9 / 1.6)


def test_penetration_row_counts_the_launch_windows_new_customers() -> None:
    """The penetration row's KPI sums new customers of the firm (ALL rows) before day 120 only;
    the two-year row reads the same variant over the whole run."""
    import pandas as pd

    from experiments.check.levers import LAUNCH_WINDOW_DAYS, METRICS, built_in_levers
    from experiments.check.runs import RunStats

    days = list(range(200))
    kpis = pd.DataFrame(
        {
            "day": days * 2,
            "region": ["ALL"] * 200 + ["XA"] * 200,
            "new_customers": [1.0] * 200 + [5.0] * 200,
        }
    )
    stats = RunStats("v", 0, 60, kpis, {})
    assert METRICS["new_customers_first_120d"](stats) == LAUNCH_WINDOW_DAYS == 120
    assert METRICS["new_customers"](stats) == 200
    by_id = {lv.id: lv for lv in built_in_levers()}
    assert by_id["penetration_two_years"].variant == by_id["pricing=penetration"].variant
    assert by_id["penetration_two_years"].expected.sign == 0


def test_warehouse_and_rfm_variants_are_financed() -> None:
    """Old code: the warehouse variant ran on each scenario's own credit line, which setup,
    rent and stock used up within a quarter (every warehouse then stocked out), and sea's
    rfm_tiers variant ran out of cash around day 500. Now both run on an unlimited line, and
    nothing else differs from the unfinanced variant."""
    for name in ("eu_eco_entry", "sea_entry"):
        base = load_scenario(SCENARIOS / f"{name}.yaml")
        own = {
            "regional_warehouse": variants.localized(base, local_warehouse=True),
            "rfm_tiers": variants.strategy("retention", "rfm_tiers")(base),
        }
        for key, unfinanced in own.items():
            built = variants.FACT_VARIANTS[key](base)
            assert built is not None and unfinanced is not None
            assert unfinanced.firm.finance.credit_limit_base is not None
            assert built.firm.finance.credit_limit_base is None, (name, key)
            rest = {"name": True, "firm": {"finance": {"credit_limit_base"}}}
            assert built.model_dump(exclude=rest) == unfinanced.model_dump(exclude=rest)
