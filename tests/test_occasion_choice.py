"""One round's choices in every category at once (speed only) are bit-identical to choosing
category by category with ``sim.choice`` / ``sim.nested_choice`` (the code they replace)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from experiments.files import load_scenario
from experiments.replications import build_model
from sim import keyed
from sim.consumers import CategoryOffers, OccasionResult
from sim.contract import PAYMENT_METHODS
from sim.nested_choice import choose
from sim.occasion_choice import round_choices
from sim.offer_terms import offer_terms
from tests.helpers import ROOT


def _offers(rng: np.random.Generator, ours: list[int], sellers: list[int]) -> CategoryOffers:
    n, m = len(ours), len(sellers)
    return CategoryOffers(
        our_products=np.array(ours, dtype=np.int64),
        our_quality=rng.normal(size=n),
        our_eco=rng.normal(size=n),
        our_price_ref=rng.uniform(5, 20, n),
        our_delivery_days=rng.uniform(2, 9, n),
        our_constant=rng.uniform(-1, 0, n),
        comp_quality=rng.normal(size=m),
        comp_eco=rng.normal(size=m),
        comp_price_ref=rng.uniform(5, 20, m),
        comp_delivery_days=rng.uniform(2, 9, m),
        comp_ids=np.arange(m, dtype=np.int64) + 10 * len(ours),
        comp_sellers=np.array(sellers, dtype=np.int64),
    )


def _per_category(pop, offers, idx, keys, cat, supported, u0, res):
    """The per-category loop ``RegionalConsumers._occasion_round`` ran before."""
    ch = pop.spec.choice
    buyers, products = [], []
    for c, o in enumerate(offers):
        members, member_keys = idx[cat == c], keys[cat == c]
        terms = offer_terms(pop, o)
        if not len(members) or not terms.base.shape[1]:
            continue
        alpha = pop.price_sensitivity[members][:, None]
        v = terms.base[pop.segment[members]]
        v -= alpha * terms.price[None, :]
        if pop.trial_price_ref is not None and o.n_ours:
            first = ~pop.customer[members]
            gap = terms.price[: o.n_ours] - np.float32(pop.trial_price_ref)
            v[first, : o.n_ours] += alpha[first] * gap[None, :]
        if o.n_ours:
            aware = pop.aware[members]
            personal = (
                ch.loyalty_weight * pop.loyalty[members]
                + pop.utility_bonus[members]
                - np.float32(ch.unsupported_payment_penalty)
                * ~supported[pop.payment_method[members]]
            )
            v[:, : o.n_ours] += personal[:, None]
            v[~aware, : o.n_ours] = -np.inf
            res.views[o.our_products] += int(aware.sum())
        noise = keyed.gumbel_noise(member_keys, terms.taste_steps, dtype=v.dtype)
        choice = choose(v, u0, noise, o, ch.seller_nest_lambda, member_keys)
        res.market_units += int((choice >= 0).sum())
        if o.n_comp:
            pick = choice[choice >= o.n_ours] - o.n_ours
            res.comp_units[c] += np.bincount(pick, minlength=o.n_comp)
        mine = (choice >= 0) & (choice < o.n_ours)
        buyers.append(members[mine])
        products.append(o.our_products[choice[mine]])
    return np.concatenate(buyers), np.concatenate(products)


@cache
def _model():
    return build_model(load_scenario(ROOT / "scenarios" / "default.yaml"), 3, 10)


@pytest.mark.parametrize("lam", [1.0, 0.6])
@pytest.mark.parametrize("shape", ["padded", "wide", "singles"])
def test_one_round_for_every_category_chooses_as_category_by_category(lam, shape) -> None:
    pop = _model().consumers[0]
    for kept in ("_layouts", "_static_layouts"):  # the model is shared by the cases
        pop.__dict__.pop(kept, None)
    pop.spec = pop.spec.model_copy(
        update={"choice": pop.spec.choice.model_copy(update={"seller_nest_lambda": lam})}
    )
    rng = np.random.default_rng(11)
    n = pop.n
    pop.aware[:n] = rng.random(n) < 0.6
    pop.customer[:n] = rng.random(n) < 0.2
    pop.loyalty[:n] = rng.random(n)
    pop.trial_price_ref = 8.0
    offers = [
        _offers(rng, [0, 1], [0, 0, 1, 1, 1]),
        _offers(rng, [], []),  # nothing on offer: no choice at all
        _offers(rng, [], [2] * (9 if shape == "wide" else 4) + [0]),  # wide: a nest over 7
        _offers(rng, [2, 3, 4], [1]),
    ]
    if shape == "singles":  # every nest one offer in every row: no draw within a nest
        offers = [
            _offers(rng, [0], [0, 1, 2]),
            _offers(rng, [], [2]),
            _offers(rng, [3], []),
            _offers(rng, [], [1, 0]),
        ]
    supported = np.arange(len(PAYMENT_METHODS)) % 2 == 0  # every other method supported
    idx = rng.choice(n, 3000, replace=False).astype(np.int32)
    keys = keyed.occasion_keys(np.uint64(5), idx, np.zeros(len(idx), dtype=np.uint16))
    cat = rng.integers(0, len(offers), len(idx))
    repriced = [  # new offers, new prices, the same line-ups: the kept layout, new prices
        replace(o, our_price_ref=o.our_price_ref * 1.2, comp_price_ref=o.comp_price_ref * 0.9)
        for o in offers
    ]
    for today in (offers, repriced):
        results = []
        for how in (round_choices, _per_category):
            res = OccasionResult(views=np.zeros(pop.n_products, dtype=np.int64))
            res.comp_units = [np.zeros(o.n_comp, dtype=np.int64) for o in today]
            if how is round_choices:
                was = pop.customer[idx]
                buyers, products = how(pop, today, idx, keys, cat, was, supported, -0.3, res)
            else:
                buyers, products = how(pop, today, idx, keys, cat, supported, -0.3, res)
            results.append((buyers, products, res))
        (b1, p1, r1), (b2, p2, r2) = results
        assert len(b1) > 30 and np.array_equal(b1, b2) and np.array_equal(p1, p2)
        assert r1.market_units == r2.market_units and np.array_equal(r1.views, r2.views)
        assert all(np.array_equal(a, b) for a, b in zip(r1.comp_units, r2.comp_units, strict=True))
    assert len(pop.__dict__["_static_layouts"]) == 1  # built once, repriced the second time
