"""Theory checks of the seller-nested logit: its sampler and the full model vs the closed form."""

from __future__ import annotations

from typing import Any

import numpy as np

from experiments.check.theory import (
    Perturb,
    TheoryCheck,
    _logit_world,
    _worst,
    choice_counts_z,
    logit_theory_shares,
    run_world,
    tiny_world,
)
from sim import keyed
from sim.nested_choice import nest_noise, nested_logit_shares, sample_nested_choices

NEST_LAMBDA = 0.5


def nested_sampler(seed: int = 20240601, perturb: Perturb = None) -> TheoryCheck:
    """Two-stage Gumbel-max sampler (keyed draws, as in the model) vs the closed-form nested
    logit: n = 200,000 rows, 5 options in 3 seller nests + outside, lambda in {0.3, 0.6, 1};
    each share within 4 SE. ``perturb`` edits ``{"utilities", "outside", "lambda"}``."""
    n = 200_000
    u, nests, u0 = np.array([0.3, -0.5, 1.1, 0.0, 0.4]), np.array([0, 0, 3, 3, 5]), 0.2
    keys = keyed.occasion_keys(np.uint64(seed), np.arange(n), np.zeros(n, dtype=np.uint16))
    noise_ids = np.r_[np.arange(len(u)), keyed.OUTSIDE_OPTION_ID]
    zs, shares, ps = [], [], []
    for lam in (0.3, 0.6, 1.0):
        inside = nested_logit_shares(u, nests, lam, u0)
        p = np.r_[inside, 1.0 - inside.sum()]
        sampled: dict[str, Any] = {"utilities": u.copy(), "outside": u0, "lambda": lam}
        if perturb is not None:
            perturb(sampled)
        v = np.tile(sampled["utilities"], (n, 1)).astype(np.float32)
        choice = sample_nested_choices(
            v,
            sampled["outside"],
            nests,
            sampled["lambda"],
            keyed.gumbel_matrix(keys, noise_ids),
            nest_noise(keys, np.unique(nests)),
        )
        counts = np.bincount(np.where(choice < 0, len(u), choice), minlength=len(u) + 1)
        shares.append(counts / n)
        ps.append(p)
        zs.append((counts / n - p) / np.sqrt(p * (1 - p) / n))
    z, share, p_all = np.array(zs), np.array(shares), np.array(ps)
    theory, model = _worst(z, p_all, share)
    return TheoryCheck(
        "nested_logit_sampler",
        "two-stage Gumbel-max vs seller-nested logit shares (200k draws, lambda 0.3/0.6/1)",
        theory,
        model,
        "each share within 4 SE",
        bool(np.all(np.abs(z) < 4)),
        {"nested_logit": p_all, "shares": share, "z": z},
    )


def _nested_world(d: dict[str, Any]) -> None:
    _logit_world(d)
    d["regions"][0]["choice"]["seller_nest_lambda"] = NEST_LAMBDA


def nested_model(seed: int = 11, perturb: Perturb = None) -> TheoryCheck:
    """Full model in the logit world of ``theory.logit_model`` with ``seller_nest_lambda`` =
    0.5 (our products one nest, the competitor's offer another): counts of (our products,
    competitor, outside) over ~300k occasions each within 3 SE of the closed-form nested
    shares (utilities recovered from the logit world's closed form: u_j = u0 + log(p_j/p_0))."""
    theory_sc = tiny_world(_nested_world)
    model, frame, prices = run_world(tiny_world(_nested_world, perturb), seed, keep_prices=True)
    _, flat = logit_theory_shares(theory_sc, prices[0])
    u0 = theory_sc.regions[0].choice.outside_utility
    utilities = u0 + np.log(flat[:-1] / flat[-1])
    n_products = len(theory_sc.products)
    nests = np.r_[np.zeros(n_products, dtype=np.int64), 1]
    inside = nested_logit_shares(utilities, nests, NEST_LAMBDA, u0)
    p = np.r_[inside, 1.0 - inside.sum()]
    n, counts, z = choice_counts_z(model, frame, n_products, p)
    theory, got = _worst(z, p, counts / n)
    fixed = bool(np.all(prices == prices[0]))
    ok = bool(np.all(np.abs(z) < 3)) and fixed and int(frame["stockouts"].sum()) == 0
    return TheoryCheck(
        "nested_logit_model",
        "model choice counts vs seller-nested logit shares (lambda 0.5), ~300k occasions",
        theory,
        got,
        "each share within 3 SE",
        ok,
        {"nested_logit": p, "flat_logit": flat, "shares": counts / n, "z": z, "occasions": n},
    )
