"""Kept per-day structures (speed only): the offers a region's consumers see are reused only
while everything they are built from is unchanged."""

from __future__ import annotations

import numpy as np

from experiments.files import load_scenario
from experiments.replications import build_model
from tests.helpers import ROOT


def test_offers_are_reused_until_a_price_listing_or_line_up_changes() -> None:
    model = build_model(load_scenario(ROOT / "scenarios" / "default.yaml"), 3, 30)
    model.run(days=5)
    obs, firm = model.observer, model.firm
    first = obs.offers(0)
    assert obs.offers(0) is first  # nothing changed: the same (read-only) offers
    assert not first[0].our_price_ref.flags.writeable
    c = next(i for i, o in enumerate(first) if o.n_ours)
    product = first[c].our_products[0]
    firm.price_local[0][product] *= 1.1
    repriced = obs.offers(0)
    assert repriced is not first
    assert repriced[c].our_price_ref[0] > first[c].our_price_ref[0]
    firm.listed[0][product] = False  # delisted
    assert product not in obs.offers(0)[c].our_products
    comp = next(k for k in model.competitors if (k.region == 0).any())
    ids = comp.offer_offset + np.flatnonzero(comp.region == 0)
    assert any(np.isin(ids, o.comp_ids).any() for o in obs.offers(0))
    comp.active[:] = False  # the competitor leaves
    assert not any(np.isin(ids, o.comp_ids).any() for o in obs.offers(0))
