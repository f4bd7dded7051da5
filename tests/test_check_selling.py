"""The payment and bundle facts' measures and variants (on fabricated KPI tables: fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.check import facts, variants
from experiments.check.runs import RunStats
from experiments.files import load_scenario
from tests.helpers import ROOT, make_scenario


def _stats(variant: str, rep: int, region: str = "BR", **flows: float) -> RunStats:
    rows = [{"day": 0, "region": r, **flows} for r in (region, "ALL")]
    return RunStats(variant, rep, 30, pd.DataFrame(rows), {})


def _ctx(scenario, runs: dict[str, list[RunStats]]) -> facts.FactContext:
    return facts.FactContext(scenario, runs, 60, 30)


def test_cod_instalments_lift_is_the_paired_conversion_ratio() -> None:
    sc = load_scenario(ROOT / "scenarios" / "latam_entry.yaml")
    base = [_stats("baseline", k, orders=100.0 + k, views=1000.0) for k in range(3)]
    with_cod = [_stats("cod_instalments", k, orders=158.0 + k, views=1000.0) for k in range(3)]
    m = facts.cod_instalments_lift(_ctx(sc, {"baseline": base, "cod_instalments": with_cod}))
    assert np.allclose(m.values, [0.58, 58 / 101, 58 / 102])
    assert m.note == "region BR"
    with pytest.raises(facts.NotMeasurable):
        facts.cod_instalments_lift(_ctx(sc, {"baseline": base}))


def test_mobile_money_success_with_and_without() -> None:
    sc = load_scenario(ROOT / "scenarios" / "kenya_entry.yaml")
    base = [_stats("baseline", k, "KE", orders=91.0, checkouts=100.0) for k in range(2)]
    without = [_stats("no_mobile_money", k, "KE", orders=63.0, checkouts=100.0) for k in range(2)]
    ctx = _ctx(sc, {"baseline": base, "no_mobile_money": without})
    assert np.allclose(facts.mobile_money_with(ctx).values, 0.91)
    assert np.allclose(facts.mobile_money_without(ctx).values, 0.63)
    built = variants.no_mobile_money(sc)
    assert built is not None and "mobile_money" not in built.firm.supported_payment_methods
    assert variants.no_mobile_money(make_scenario()) is None  # tiny takes cards only


def test_bundle_value_compares_offered_orders_with_and_without_bundles() -> None:
    sc = make_scenario(lambda d: d["firm"].update(bundles={"units": 3, "take_rate": 0.4}))
    on = [_stats("baseline", 0, bundle_offer_gmv_base=152.0, bundle_offers=10.0, bundle_orders=4.0)]
    off = [_stats("no_bundles", 0, bundle_offer_gmv_base=100.0, bundle_offers=10.0)]
    m = facts.bundle_value(_ctx(sc, {"baseline": on, "no_bundles": off}))
    assert np.allclose(m.values, 0.52) and m.note == "40% of offers taken"
    built = variants.no_bundles(sc)
    assert built is not None and built.firm.bundles.take_rate == 0.0
    assert variants.no_bundles(make_scenario()) is None


def test_marketplace_variant_moves_own_site_regions_only() -> None:
    built = variants.marketplace(make_scenario())
    assert built is not None
    assert built.regions[0].sales.channel == "marketplace"
    assert built.regions[0].sales.marketplace.commission_share == 0.15
    lined = make_scenario(
        lambda d: d["firm"].setdefault("finance", {}).update(credit_limit_base=1e4)
    )
    financed = variants.marketplace(lined)
    assert lined.firm.finance.credit_limit_base == 1e4
    assert financed is not None
    assert financed.firm.finance.credit_limit_base is None  # financed: traffic, not cash
    assert variants.marketplace(built) is None
