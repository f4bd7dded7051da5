"""Validation of the model's mechanisms against closed-form theory.

Every test fixes its seed, so it is deterministic; each states its tolerance in the docstring
and in the assertion message. The model's clock: day ``d`` covers operational time
``[d, d + 1)`` and its KPI row is recorded at the end of the day, i.e. at time ``d + 1``.
(The one-stage lane vs Erlang C lives in ``tests/test_lanes.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_scenario
from scipy.optimize import fsolve
from scipy.special import hyp2f1

from sim.choice import logit_shares, sample_choices
from sim.diffusion import bass_cdf
from tests.helpers import new_model


def region_rows(frame, region: str = "XA"):
    return frame[frame["region"] == region].reset_index(drop=True)


def no_sales(d: dict) -> None:
    """Our firm never sells (no stock, no replenishment): no customers, no dissatisfaction,
    so neither word of mouth nor dropout is perturbed by our service."""
    d["firm"]["warehouses"][0]["initial_units"] = 0
    d["firm"]["inventory_policy"] = []


# =========================================================================== 1. logit shares
def test_sample_choices_matches_logit_shares() -> None:
    """Gumbel-max sampler vs closed-form logit shares: n = 200,000 rows, 4 options + outside;
    each empirical share (outside included) within 3 SE = 3 sqrt(p(1-p)/n), float32 and
    float64 utilities."""
    n = 200_000
    u = np.array([0.3, -0.5, 1.1, 0.0])
    u0 = 0.2
    inside = logit_shares(u, u0)
    p = np.r_[inside, 1.0 - inside.sum()]
    se = np.sqrt(p * (1 - p) / n)
    for dtype in (np.float64, np.float32):
        v = np.tile(u, (n, 1)).astype(dtype)
        choice = sample_choices(v, u0, np.random.default_rng(20240601))
        assert choice.shape == (n,)
        assert set(np.unique(choice)) <= {-1, 0, 1, 2, 3}
        counts = np.bincount(np.where(choice < 0, 4, choice), minlength=5)
        z = (counts / n - p) / se
        assert np.all(np.abs(z) < 3), (
            f"{dtype.__name__}: empirical {counts / n} vs logit {p}; z = {z} (tolerance 3 SE)"
        )


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


LOGIT_ALPHA = 0.08  # tiny.yaml's segment (quality 2.0, eco 0.5, delivery 0.05 per day)


def _logit_world(d: dict) -> None:
    r = d["regions"][0]
    r["population"] = 20_000
    r["fx"] = {"local_per_base": 2.0, "daily_volatility": 0.0}
    r["awareness"] = {"initial_share": 1.0}
    # many occasions, hardly any dropout
    r["repeat"] = {"r": 1.0, "alpha_days": 2.0, "a": 1.0, "b": 1000.0}
    r["choice"]["loyalty_weight"] = 0.0  # deliveries would otherwise move utilities
    seg = r["segments"][0]
    seg["price_sensitivity"] = {"mean": LOGIT_ALPHA, "cv": 0.0}
    seg["payment_preferences"] = {"card": 1.0}  # card is supported: no payment penalty
    d["competitors"][0]["behaviour"] = {"kind": "fixed"}
    d["firm"]["warehouses"][0]["initial_units"] = 10_000_000  # effectively infinite stock
    d["firm"]["inventory_policy"] = []
    d["horizon_days"] = 30


def test_model_choice_counts_match_logit_shares() -> None:
    """Full model, one segment (cv = 0), everyone aware, one fixed competitor, infinite stock,
    no loyalty term: counts of (our mug, our lamp, competitor, outside) over ~300k occasions
    each within 3 SE of the closed-form logit shares computed from the scenario (utilities as
    in ``Observer.offers`` + ``RegionalConsumers._occasion_round``: landed price with duty
    above de minimis and VAT, over the reference FX; machine-translation constant; promised
    delivery days)."""
    sc = make_scenario(_logit_world)
    model = new_model(sc, seed=11)
    prices = []
    while model.day < model.horizon_days:
        model.step()
        prices.append(model.firm.price_local[0].copy())
    prices = np.array(prices)
    assert np.all(prices == prices[0]), "prices must stay fixed for the closed form to apply"
    frame = region_rows(model.kpi_frame())

    region, seg = sc.regions[0], sc.regions[0].segments[0]
    fx = region.fx.local_per_base
    tax = region.tax
    list_price = prices[0]
    duty = np.where(list_price > tax.de_minimis_local, tax.duty_rate, 0.0)
    landed = list_price * (1 + duty) * (1 + tax.vat_rate)
    assert duty[0] == 0 and duty[1] > 0, "the test should exercise both sides of de minimis"
    constant = region.regulation.consent_penalty
    if region.language != sc.firm.source_language:
        constant += region.choice.machine_translation_penalty
    lane_days = sc.lanes[0].promised_days
    ours = np.array(
        [
            seg.quality_weight * p.quality
            + seg.eco_weight * p.eco_score
            - LOGIT_ALPHA * landed[i] / fx
            - seg.delivery_weight_per_day * lane_days
            - constant
            for i, p in enumerate(sc.products)
        ]
    )
    o = sc.competitors[0].offers[0]
    comp = (
        seg.quality_weight * o.quality
        + seg.eco_weight * o.eco_score
        - LOGIT_ALPHA * o.price_local / fx
        - seg.delivery_weight_per_day * o.delivery_days
    )
    inside = logit_shares(np.r_[ours, comp], region.choice.outside_utility)
    p = np.r_[inside, 1.0 - inside.sum()]

    n = int(frame["occasions"].sum())
    product = model.firm.orders.column("product").astype(np.int64)
    per_product = np.bincount(product, minlength=len(sc.products))
    units, market = int(frame["units"].sum()), int(frame["market_units"].sum())
    assert int(frame["stockouts"].sum()) == 0
    assert per_product.sum() == units
    counts = np.r_[per_product, market - units, n - market]
    se = np.sqrt(p * (1 - p) / n)
    z = (counts / n - p) / se
    assert n > 200_000
    assert np.all(np.abs(z) < 3), (
        f"shares {counts / n} vs logit {p} over {n} occasions; z = {z} (tolerance 3 SE)"
    )
    share = frame["units"].sum() / frame["market_units"].sum()
    theory_share = inside[:2].sum() / inside.sum()
    se_share = np.sqrt(theory_share * (1 - theory_share) / market)
    assert abs(share - theory_share) < 3 * se_share, (
        f"market share {share:.5f} vs {theory_share:.5f} (tolerance 3 SE = {3 * se_share:.5f})"
    )


# =========================================================================== 2. Bass awareness
BASS_P, BASS_Q = 0.003, 0.08


def test_awareness_follows_bass_closed_form() -> None:
    """N = 100,000, fully mixed, no marketing spend, no customers (our firm has no stock), p =
    0.003 and q = 0.08 per day, initial share 0: the aware share recorded on day d (end of the
    day, time d + 1) within 2% absolute of ``bass_cdf(d + 1)`` for every day up to 120."""

    def world(d: dict) -> None:
        r = d["regions"][0]
        r["population"] = 100_000
        r["awareness"] = {
            "initial_share": 0.0,
            "p_base_daily": BASS_P,
            "p_per_1k_spend_daily": 0.002,  # no spend, so no effect
            "q_daily": BASS_Q,
        }
        d["firm"]["marketing_budget_monthly_base"] = {}
        no_sales(d)
        d["horizon_days"] = 121

    sc = make_scenario(world)
    model = new_model(sc, seed=3)
    frame = region_rows(model.run())
    assert frame["customers"].max() == 0 and frame["marketing_base"].sum() == 0
    t = frame["day"].to_numpy() + 1.0
    aware = frame["aware_share"].to_numpy()
    theory = bass_cdf(t, BASS_P, BASS_Q)
    dev = np.abs(aware - theory)
    worst = int(np.argmax(dev))
    assert dev.max() < 0.02, (
        f"max |aware - F(t)| = {dev.max():.4f} at t = {t[worst]:.0f} "
        f"(simulated {aware[worst]:.4f}, Bass {theory[worst]:.4f}); tolerance 0.02 absolute"
    )
    assert aware[-1] > 0.9  # the curve has actually been traversed


# =========================================================================== 3. BG/NBD
BG = {"r": 0.8, "alpha_days": 20.0, "a": 1.2, "b": 6.0}


def bgnbd_expected_purchases(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """BG/NBD E[X(t)] (Fader, Hardie & Lee 2005, eq. 9), valid for a > 1."""
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def test_bgnbd_closed_form_against_quadrature() -> None:
    """The closed form used below vs quadrature (1e-8 relative): given p, the Gamma mixture
    of Poisson rates gives E[X(t) | p] = (1 - (alpha / (alpha + p t))^r) / p, integrated over
    p ~ Beta(a, b)."""
    from scipy import integrate, stats

    r, alpha, a, b = BG["r"], BG["alpha_days"], BG["a"], BG["b"]
    for t in (30.0, 365.0):

        def integrand(p: float, t: float = t) -> float:
            return -np.expm1(r * np.log(alpha / (alpha + p * t))) / p * stats.beta.pdf(p, a, b)

        num = integrate.quad(integrand, 0, 1, epsabs=0, epsrel=1e-12, limit=200)[0]
        closed = bgnbd_expected_purchases(t, r, alpha, a, b)
        assert closed == pytest.approx(num, rel=1e-8)


def test_occasions_follow_bgnbd_expected_purchases() -> None:
    """Unperturbed population (seasonality 1, no customers of ours), N = 200,000, BG/NBD r =
    0.8, alpha = 20 days, a = 1.2, b = 6: mean occasions per consumer in [0, t) (the
    ``occasions`` KPI summed over days 0..t-1, divided by N) within 3% relative of E[X(t)] at
    t = 30, 90, 180, 365."""

    def world(d: dict) -> None:
        r = d["regions"][0]
        r["population"] = 200_000
        r["repeat"] = dict(BG)
        r["seasonality"] = [1.0] * 12
        r["service"] = {"dissatisfaction_dropout_uplift": 0.0}
        no_sales(d)
        d["horizon_days"] = 365

    sc = make_scenario(world)
    model = new_model(sc, seed=5)
    frame = region_rows(model.run())
    assert frame["customers"].max() == 0
    cum = np.cumsum(frame["occasions"].to_numpy()) / sc.regions[0].population
    report = []
    for t in (30, 90, 180, 365):
        theory = bgnbd_expected_purchases(t, BG["r"], BG["alpha_days"], BG["a"], BG["b"])
        sim = cum[t - 1]
        report.append((t, sim, theory, sim / theory - 1))
    worst = max(abs(x[3]) for x in report)
    assert worst < 0.03, f"(t, simulated, E[X(t)], rel. dev.) = {report}; tolerance 3% relative"


# =========================================================================== 4. Bertrand-Nash
NASH_ALPHA, NASH_U0 = 0.08, -0.5
NASH_COMPS = (
    {"cost": 14.0, "quality": 0.5, "eco": 0.2, "days": 3.0, "price": 30.0},
    {"cost": 20.0, "quality": 0.8, "eco": 0.4, "days": 5.0, "price": 25.0},
)


def test_best_response_competitors_reach_bertrand_nash() -> None:
    """One region, one segment (cv = 0), FX 1 without volatility, no tax, our products
    not offered (taboo in the region), two single-product best-response competitors repricing
    daily with different costs and qualities: after 60 days their prices solve the logit
    Bertrand-Nash system p_j - c_j = 1 / (alpha (1 - s_j)) (solved here with fsolve) within
    0.5% relative."""

    def world(d: dict) -> None:
        r = d["regions"][0]
        r["population"] = 2_000
        r["fx"] = {"local_per_base": 1.0, "daily_volatility": 0.0}
        r["tax"] = {"duty_rate": 0.0, "vat_rate": 0.0, "de_minimis_local": 0.0}
        r["taboo_tags"] = ["pork"]
        r["choice"]["outside_utility"] = NASH_U0
        seg = r["segments"][0]
        seg["price_sensitivity"] = {"mean": NASH_ALPHA, "cv": 0.0}
        for p in d["products"]:
            p["tags"] = [*p.get("tags", []), "pork"]
        d["competitors"] = [
            {
                "id": f"rival{i}",
                "behaviour": {"kind": "best_response", "reprice_every_days": 1},
                "offers": [
                    {
                        "region": "XA",
                        "category": "home",
                        "price_local": c["price"],
                        "cost_local": c["cost"],
                        "quality": c["quality"],
                        "eco_score": c["eco"],
                        "delivery_days": c["days"],
                    }
                ],
            }
            for i, c in enumerate(NASH_COMPS)
        ]
        d["horizon_days"] = 60

    sc = make_scenario(world)
    model = new_model(sc, seed=2)
    frame = region_rows(model.run())
    assert frame["units"].sum() == 0 and frame["market_units"].sum() > 0
    prices = np.array([c.price_local[0] for c in model.competitors])

    seg = sc.regions[0].segments[0]
    cost = np.array([c["cost"] for c in NASH_COMPS])
    nonprice = np.array(
        [
            seg.quality_weight * c["quality"]
            + seg.eco_weight * c["eco"]
            - seg.delivery_weight_per_day * c["days"]
            for c in NASH_COMPS
        ]
    )

    def shares(p: np.ndarray) -> np.ndarray:
        e = np.exp(nonprice - NASH_ALPHA * p)
        return e / (np.exp(NASH_U0) + e.sum())

    def foc(p: np.ndarray) -> np.ndarray:
        return p - cost - 1.0 / (NASH_ALPHA * (1.0 - shares(p)))

    nash = fsolve(foc, cost + 1.0 / NASH_ALPHA, xtol=1e-12)
    assert np.max(np.abs(foc(nash))) < 1e-8
    rel = np.abs(prices / nash - 1)
    assert rel.max() < 0.005, (
        f"competitor prices {prices} vs Bertrand-Nash {nash} (shares {shares(nash)}); "
        f"max rel. dev. {rel.max():.2e}, tolerance 0.5%"
    )
