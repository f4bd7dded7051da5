"""A competitor's profit-maximizing price under the seller-nested logit (``sim.nested_choice``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import brentq

from sim.choice import rival_view, segment_mean_utility

if TYPE_CHECKING:
    from sim.competitors import CompetitorAgent, MarketObservation


def _iv(v: np.ndarray, lam: float) -> float:
    """Inclusive value ``lam * logsumexp(v / lam)`` (``-inf`` for no offers)."""
    if not len(v):
        return -np.inf
    m = float(np.max(v))
    return m + lam * float(np.log(np.exp((v - m) / lam).sum()))


def nested_best_response_price(agent: CompetitorAgent, k: int, market: MarketObservation) -> float:
    """Price (local) of ``agent``'s offer ``k`` maximizing its expected profit when consumers
    choose by the seller-nested logit: the offer shares its nest with the seller's other
    offers in the region and category (held at today's prices); our offers (seen by aware
    consumers, with the payment penalty for the share whose method we lack) are one nest,
    each other competitor one nest, the outside option its own. Segments and awareness give
    the consumer groups, as in :meth:`CompetitorAgent.best_response_price`."""
    r, c = int(agent.region[k]), int(agent.category[k])
    fx_ref = market.fx_reference(r)
    offers = market.offers(r)[c]
    aware_frac = market.aware_share(r)
    supported = market.payment_supported(r)
    choice = market.choice_params(r)
    lam = choice.seller_nest_lambda
    pos = int(np.flatnonzero(offers.comp_ids == agent.offer_offset + k)[0])
    sellers = offers.comp_sellers
    mine = sellers == sellers[pos]
    mine[pos] = False
    groups: list[tuple[float, float, float, float, float]] = []
    for seg in market.segments(r):
        alpha, unsupported, comp_v = rival_view(seg, offers, supported)
        own_v = comp_v[pos] + alpha * offers.comp_price_ref[pos]  # utility without price
        within = float(np.exp(comp_v[mine] / lam).sum())
        rivals = np.exp(choice.outside_utility) + sum(
            np.exp(_iv(comp_v[sellers == s], lam)) for s in np.unique(sellers) if s != sellers[pos]
        )
        ours_v = offers.our_constant + segment_mean_utility(
            seg, offers.our_quality, offers.our_eco, offers.our_price_ref, offers.our_delivery_days
        )
        ours = np.exp(_iv(ours_v, lam)) * (
            1 - unsupported + unsupported * np.exp(-choice.unsupported_payment_penalty)
        )
        for aware_w, extra in ((aware_frac, ours), (1 - aware_frac, 0.0)):
            if aware_w > 0:
                groups.append((seg.share * aware_w, alpha / fx_ref, own_v, within, rivals + extra))
    w, a, v, d, rest = (np.array(x) for x in zip(*groups, strict=True))
    cap = agent.initial_price_local[k] * agent.behaviour.max_price_multiple
    return nested_price(float(agent.cost_local[k]), w, a, v, d, rest, lam, float(cap))


def nested_price(
    cost: float,
    weights: np.ndarray,
    price_coef: np.ndarray,
    own_other_utility: np.ndarray,
    within_exp_sum: np.ndarray,
    rival_exp_sum: np.ndarray,
    lam: float,
    price_cap: float,
) -> float:
    """Price maximizing ``(p - c) S(p)``, ``S = sum_g w_g s_g`` with the nested-logit share
    ``s_g = P_n s_{k|n}``: ``s_{k|n} = E / (E + D_g)``, ``E = exp((v_g - a_g p) / lam)``,
    ``P_n = (E + D_g)^lam / ((E + D_g)^lam + R_g)``. The first-order condition is
    ``sum_g w_g s_g (1 - a_g (p - c) ((1 - s_{k|n}) / lam + s_{k|n} (1 - P_n))) = 0``; with
    ``lam = 1`` and ``D = 0`` it is the logit's ``1 - a (p - c)(1 - s)``."""

    log_within = np.log(np.maximum(within_exp_sum, 1e-300))

    def foc(p: float) -> float:
        x = (own_other_utility - price_coef * p) / lam
        # scale by the larger of E and D; a group without the seller's other offers (D = 0)
        # scales by E alone, however small E is (a very price-sensitive group at a high price)
        top = np.where(within_exp_sum > 0, np.maximum(x, log_within), x)
        # (E + D) e^-top; where D = 0 the floored exponent keeps 0 x e^-top finite
        inner = np.exp(x - top) + within_exp_sum * np.exp(-np.maximum(top, log_within))
        s_in = np.exp(x - top) / inner
        log_iv = lam * (top + np.log(inner))
        with np.errstate(over="ignore"):  # a nest worth nothing against its rivals: P_n = 0
            p_n = 1.0 / (1.0 + rival_exp_sum * np.exp(-log_iv))
        s = p_n * s_in
        slope = (1.0 - s_in) / lam + s_in * (1.0 - p_n)
        return float(np.sum(weights * s * (1.0 - price_coef * (p - cost) * slope)))

    lo = cost
    hi = max(cost + lam / float(np.min(price_coef)), cost * 1.01)
    while foc(hi) > 0 and hi < price_cap:
        hi = min(price_cap, cost + 2.0 * (hi - cost))
    if foc(hi) > 0:
        return price_cap
    return float(brentq(foc, lo, hi, xtol=1e-10, rtol=1e-12))
