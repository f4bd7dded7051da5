"""Validation of the model's mechanisms against closed-form theory.

The worlds, runs and comparisons live in ``experiments/check/theory.py`` (the theory table of
``marketsim check``); these tests call them and assert. Every check fixes its seed, so it is
deterministic; each states its tolerance in its docstring and in its row. The model's clock:
day ``d`` covers operational time ``[d, d + 1)`` and its KPI row is recorded at the end of
the day, i.e. at time ``d + 1``. (The one-stage lane vs Erlang C is in ``tests/test_lanes.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest

from experiments.check import theory
from sim.choice import logit_shares, sample_choices


def assert_passed(check: theory.TheoryCheck) -> None:
    details = {k: v for k, v in check.details.items() if k not in ("agent", "t", "aware", "bass")}
    assert check.passed, (
        f"{check.name}: theory {check.theory} vs model {check.model} ({check.tolerance}); {details}"
    )


# =========================================================================== 1. logit shares
def test_sample_choices_matches_logit_shares() -> None:
    """Gumbel-max sampler vs closed-form logit shares (3 SE; see ``theory.logit_sampler``)."""
    check = theory.logit_sampler()
    assert check.details["shares"].shape == (2, 5)
    assert_passed(check)


def test_sample_choices_respects_unavailable_options() -> None:
    """-inf utilities are never chosen; per-row outside utilities are honoured (3 SE)."""
    n = 100_000
    v = np.tile([0.5, -np.inf, 0.0], (n, 1))
    u0 = np.where(np.arange(n) < n // 2, 0.0, 50.0)  # second half: outside dominates
    choice = sample_choices(v, u0, np.random.default_rng(5))
    assert not np.any(choice == 1)
    assert np.all(choice[n // 2 :] == -1)
    first = choice[: n // 2]
    p = logit_shares(np.array([0.5, -np.inf, 0.0]), 0.0)[0]
    se = np.sqrt(p * (1 - p) / (n // 2))
    share = np.mean(first == 0)
    assert abs(share - p) < 3 * se, (
        f"share {share:.5f} vs logit {p:.5f} (tolerance 3 SE = {3 * se})"
    )


def test_model_choice_counts_match_logit_shares() -> None:
    """Full model vs closed-form logit shares over ~300k occasions (3 SE; see
    ``theory.logit_model``), with both sides of de minimis exercised and fixed prices."""
    check = theory.logit_model()
    d = check.details
    assert d["occasions"] > 200_000
    assert d["stockouts"] == 0 and d["prices_fixed"]
    assert d["per_product"].sum() == d["units"]
    assert d["duty"][0] == 0 and d["duty"][1] > 0, "exercise both sides of de minimis"
    assert_passed(check)
    market, units = d["market_units"], d["units"]
    inside = d["logit"][:-1]
    theory_share = inside[:2].sum() / inside.sum()
    se_share = np.sqrt(theory_share * (1 - theory_share) / market)
    share = units / market
    assert abs(share - theory_share) < 3 * se_share, (
        f"market share {share:.5f} vs {theory_share:.5f} (tolerance 3 SE = {3 * se_share:.5f})"
    )


def test_nested_logit_checks_pass_and_can_fail() -> None:
    """Seller-nested logit: sampler (4 SE, lambda 0.3/0.6/1) and full model (3 SE, lambda 0.5)
    vs the closed form; a model run at lambda 0.8 fails the lambda-0.5 closed form."""
    assert_passed(theory.nested_logit_sampler())
    assert_passed(theory.nested_logit_model())

    def wrong_lambda(d: dict) -> None:
        d["regions"][0]["choice"]["seller_nest_lambda"] = 0.8

    assert not theory.nested_logit_model(perturb=wrong_lambda).passed


def test_logit_check_fails_when_the_model_is_perturbed() -> None:
    """The checker can fail: a model whose price sensitivity differs from the one the closed
    form is computed with is caught."""

    def wrong_alpha(d: dict) -> None:
        d["regions"][0]["segments"][0]["price_sensitivity"]["mean"] = 0.12

    assert not theory.logit_model(perturb=wrong_alpha).passed


# =========================================================================== 2. Bass awareness
def test_awareness_follows_bass_closed_form() -> None:
    """Aware share within 2% absolute of Bass F(t) every day (see ``theory.bass_awareness``)."""
    check = theory.bass_awareness()
    assert check.details["aware"][-1] > 0.9
    assert_passed(check)


def test_bass_check_fails_when_the_model_is_perturbed() -> None:
    """The checker can fail: word of mouth q = 0.12 in the model instead of 0.08."""

    def wrong_q(d: dict) -> None:
        d["regions"][0]["awareness"]["q_daily"] = 0.12

    check = theory.bass_awareness(perturb=wrong_q)
    assert not check.passed
    assert check.row()["verdict"] == "fail"


# =========================================================================== 3. BG/NBD
def test_bgnbd_closed_form_against_quadrature() -> None:
    """The closed form the check uses vs quadrature (1e-8 relative): given p, the Gamma
    mixture of Poisson rates gives E[X(t) | p] = (1 - (alpha / (alpha + p t))^r) / p,
    integrated over p ~ Beta(a, b)."""
    from scipy import integrate, stats

    bg = theory.BG
    r, alpha, a, b = bg["r"], bg["alpha_days"], bg["a"], bg["b"]
    for t in (30.0, 365.0):

        def integrand(p: float, t: float = t) -> float:
            return -np.expm1(r * np.log(alpha / (alpha + p * t))) / p * stats.beta.pdf(p, a, b)

        num = integrate.quad(integrand, 0, 1, epsabs=0, epsrel=1e-12, limit=200)[0]
        closed = theory.bgnbd_expected_purchases(t, r, alpha, a, b)
        assert closed == pytest.approx(num, rel=1e-8)


def test_occasions_follow_bgnbd_expected_purchases() -> None:
    """Mean occasions per consumer within 3% relative of E[X(t)] at t = 30, 90, 180, 365 (see
    ``theory.bgnbd_occasions``)."""
    assert_passed(theory.bgnbd_occasions())


def test_bgnbd_check_fails_when_the_model_is_perturbed() -> None:
    """The checker can fail: a dropout b = 3 in the model instead of 6."""

    def wrong_b(d: dict) -> None:
        d["regions"][0]["repeat"]["b"] = 3.0

    assert not theory.bgnbd_occasions(perturb=wrong_b).passed


# =========================================================================== 4. Bertrand-Nash
def test_best_response_competitors_reach_bertrand_nash() -> None:
    """Best-response prices after 60 days within 0.5% of the logit Bertrand-Nash fixed point
    (see ``theory.bertrand_nash``)."""
    check = theory.bertrand_nash()
    assert np.max(np.abs(check.details["residual"])) < 1e-8
    assert_passed(check)


def test_nash_check_fails_when_the_model_is_perturbed() -> None:
    """The checker can fail: the first rival's cost is 18 in the model, 14 in the theory."""

    def wrong_cost(d: dict) -> None:
        d["competitors"][0]["offers"][0]["cost_local"] = 18.0

    assert not theory.bertrand_nash(perturb=wrong_cost).passed
