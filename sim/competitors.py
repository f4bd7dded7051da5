"""Competitor agents: offers per region and category, repriced from what the rival observes."""

from __future__ import annotations

from typing import Protocol

import mesa
import numpy as np
from scipy.optimize import brentq

from sim.choice import rival_view, segment_mean_utility
from sim.consumers import CategoryOffers
from sim.nested_response import nested_best_response_price
from sim.scenario import ChoiceParams, Competitor, Segment


class MarketObservation(Protocol):
    """What a competitor can observe of a region (``r``) and category (``c``) today."""

    def offers(self, r: int) -> list[CategoryOffers]:
        """The offers consumers see, per category (prices in reference-base units)."""
        ...

    def our_min_price(self, r: int, c: int) -> float | None:
        """Our lowest landed consumer price (local), None when we do not sell there."""
        ...

    def segments(self, r: int) -> list[Segment]:
        """The region's consumer segments."""
        ...

    def choice_params(self, r: int) -> ChoiceParams:
        """The region's choice parameters."""
        ...

    def fx_reference(self, r: int) -> float:
        """The region's reference exchange rate (local per base)."""
        ...

    def aware_share(self, r: int) -> float:
        """Share of the region's consumers aware of our firm."""
        ...

    def payment_supported(self, r: int) -> np.ndarray:
        """Per payment method code: whether our firm accepts it in the region."""
        ...


class CompetitorAgent(mesa.Agent):
    """One rival seller with offers in several regions and categories (local currency)."""

    def __init__(
        self,
        model: mesa.Model,
        spec: Competitor,
        region_index: dict[str, int],
        category_index: dict[str, int],
        offer_offset: int = 0,
    ):
        super().__init__(model)
        self.spec = spec
        #: global index of this competitor's first offer (offers are numbered across
        #: competitors in scenario order; ``CategoryOffers.comp_ids`` uses these numbers)
        self.offer_offset = offer_offset
        self.behaviour = spec.behaviour
        offers = spec.offers
        self.region = np.array([region_index[o.region] for o in offers], dtype=np.int64)
        self.category = np.array([category_index[o.category] for o in offers], dtype=np.int64)
        self.price_local = np.array([o.price_local for o in offers], dtype=float)
        self.initial_price_local = self.price_local.copy()
        self.cost_local = np.array([o.cost_local for o in offers], dtype=float)
        self.quality = np.array([o.quality for o in offers], dtype=float)
        self.eco_score = np.array([o.eco_score for o in offers], dtype=float)
        self.delivery_days = np.array([o.delivery_days for o in offers], dtype=float)
        self.last_change_local = np.zeros(len(offers))
        #: offers on the market today (``competitor_entry`` / ``competitor_exit`` events)
        self.active = np.ones(len(offers), dtype=bool)

    def floor_price(self) -> np.ndarray:
        """Lowest price the competitor will charge."""
        return self.cost_local * (1.0 + self.behaviour.floor_markup)

    def reprice(self, day: int, market: MarketObservation) -> None:
        """Reprice every offer if a repricing day (``day % reprice_every_days == 0``, day > 0).

        ``match`` and ``undercut`` follow our lowest landed price in the offer's region and
        category (back to the initial price where we do not sell); ``best_response`` maximizes
        the offer's expected profit against the offers consumers see
        (:meth:`best_response_price`).
        """
        b = self.behaviour
        if b.kind == "fixed" or day == 0 or day % b.reprice_every_days:
            return
        new = self.price_local.copy()
        for k in range(len(new)):
            if b.kind == "best_response":
                new[k] = self.best_response_price(k, market)
                continue
            ours = market.our_min_price(int(self.region[k]), int(self.category[k]))
            if ours is None:
                new[k] = self.initial_price_local[k]
            elif b.kind == "match":
                new[k] = ours
            else:  # undercut
                new[k] = ours * (1.0 - b.undercut_share)
        cap = self.initial_price_local * b.max_price_multiple
        new = np.clip(new, self.floor_price(), np.maximum(cap, self.floor_price()))
        self.last_change_local = new - self.price_local
        self.price_local = new

    def best_response_price(self, k: int, market: MarketObservation) -> float:
        """Logit profit-maximizing price (local) of offer ``k`` against today's offers
        (the seller-nested logit's when the region's ``seller_nest_lambda`` < 1)."""
        r, c = int(self.region[k]), int(self.category[k])
        if market.choice_params(r).seller_nest_lambda < 1.0:
            return nested_best_response_price(self, k, market)
        fx_ref = market.fx_reference(r)
        offers = market.offers(r)[c]
        aware_frac = market.aware_share(r)
        supported = market.payment_supported(r)
        choice = market.choice_params(r)
        # this offer's position among the category's competitor offers
        pos = int(np.flatnonzero(offers.comp_ids == self.offer_offset + k)[0])
        weights, coefs, own, rivals = [], [], [], []
        for seg in market.segments(r):
            alpha, unsupported, comp_v = rival_view(seg, offers, supported)
            other = np.delete(comp_v, pos)
            base_sum = np.exp(choice.outside_utility) + np.exp(other).sum()
            own_v = comp_v[pos] + alpha * offers.comp_price_ref[pos]  # utility without price
            ours_v = offers.our_constant + segment_mean_utility(
                seg,
                offers.our_quality,
                offers.our_eco,
                offers.our_price_ref,
                offers.our_delivery_days,
            )
            ours_sum = (
                (1 - unsupported) * np.exp(ours_v)
                + unsupported * np.exp(ours_v - choice.unsupported_payment_penalty)
            ).sum()
            # aware consumers also see our offers; unaware ones only competitors and outside
            for aware_w, extra in ((aware_frac, ours_sum), (1 - aware_frac, 0.0)):
                if aware_w <= 0:
                    continue
                weights.append(seg.share * aware_w)
                coefs.append(alpha / fx_ref)  # per local-currency unit
                own.append(own_v)
                rivals.append(base_sum + extra)
        cap = self.initial_price_local[k] * self.behaviour.max_price_multiple
        return logit_best_response_price(
            float(self.cost_local[k]),
            np.array(weights),
            np.array(coefs),
            np.array(own),
            np.array(rivals),
            float(cap),
        )


def logit_best_response_price(
    cost: float,
    weights: np.ndarray,
    price_coef: np.ndarray,
    own_other_utility: np.ndarray,
    rival_exp_sum: np.ndarray,
    price_cap: float,
) -> float:
    """Price maximizing ``(p - c) * S(p)`` for a mixed-logit of consumer groups.

    Group ``g`` (weight ``w_g``) has price coefficient ``a_g`` (per local-currency unit),
    own non-price utility ``v_g`` and ``rival_exp_sum_g`` = exp(outside) + sum of exp(rival
    utilities). ``S(p) = sum_g w_g s_g(p)`` with ``s_g = e^{v_g - a_g p} / (e^{v_g - a_g p} +
    R_g)``. Solves the first-order condition ``S + (p - c) S' = 0`` with Brent's method; for one
    group this is the Bertrand-Nash markup ``p - c = 1 / (a (1 - s))``.
    """

    def foc(p: float) -> float:
        x = own_other_utility - price_coef * p
        m = np.maximum(x, np.log(rival_exp_sum))
        e = np.exp(x - m)
        s = e / (e + rival_exp_sum * np.exp(-m))
        return float(np.sum(weights * s * (1.0 - price_coef * (p - cost) * (1.0 - s))))

    lo = cost
    hi = max(cost + 1.0 / float(np.min(price_coef)), cost * 1.01)
    while foc(hi) > 0 and hi < price_cap:
        hi = min(price_cap, cost + 2.0 * (hi - cost))
    if foc(hi) > 0:
        return price_cap
    return float(brentq(foc, lo, hi, xtol=1e-10, rtol=1e-12))
