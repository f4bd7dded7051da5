"""Kept per-day structures (speed only): the offers a region's consumers see and the nest plan
are reused only while everything they are built from is unchanged."""

from __future__ import annotations

import numpy as np

from experiments.files import load_scenario
from experiments.replications import build_model
from sim import keyed
from sim.nested_choice import _plan, nest_noise, sample_nested_choices
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


def test_the_kept_nest_plan_draws_the_same_choices() -> None:
    rng = np.random.default_rng(5)
    sellers = np.array([0, 0, 1, 2, 2, 2], dtype=np.int64)
    plan = _plan(3, sellers.tobytes())
    assert plan.columns == [slice(0, 3), slice(3, 5), slice(5, 6), slice(6, 9)]
    keys = keyed.occasion_keys(np.uint64(9), np.arange(500), np.zeros(500, dtype=np.uint16))
    v = rng.normal(size=(500, 9)).astype(np.float32)
    v[rng.random((500, 9)) < 0.2] = -np.inf
    shocks = keyed.gumbel_noise(keys, plan.steps, np.float64)
    assert np.array_equal(shocks, nest_noise(keys, plan.ids, np.float64))
    noise = keyed.gumbel_matrix(keys, np.arange(10), np.float32)
    kept = sample_nested_choices(v, -0.5, plan.nests, 0.6, noise.copy(), shocks, plan)
    fresh = sample_nested_choices(v, -0.5, plan.nests, 0.6, noise.copy(), shocks)
    assert np.array_equal(kept, fresh)
    shuffled = np.array([1, 0, 1, 0, 2, 2, 0, 0, 1])  # not contiguous: indices, same draws
    a = sample_nested_choices(v, -0.5, shuffled, 0.6, noise.copy(), nest_noise(keys, np.arange(3)))
    assert a.min() >= -1 and a.max() < 9
