"""Competitor agents: offers per region and category that reprice by a declared behaviour."""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np
from scipy.optimize import brentq

from sim.scenario import Competitor


class CompetitorAgent(mesa.Agent):
    """One rival seller with offers in several regions and categories (local currency)."""

    def __init__(
        self,
        model: mesa.Model,
        spec: Competitor,
        region_index: dict[str, int],
        category_index: dict[str, int],
    ):
        super().__init__(model)
        self.spec = spec
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

    def floor_price(self) -> np.ndarray:
        """Lowest price the competitor will charge."""
        return self.cost_local * (1.0 + self.behaviour.floor_markup)

    def reprice(
        self,
        day: int,
        our_min_price: Callable[[int, int], float | None],
        best_response: Callable[[int, int, int], float],
    ) -> None:
        """Reprice every offer if a repricing day (``day % reprice_every_days == 0``, day > 0).

        Args:
            day: current day.
            our_min_price: lowest landed consumer price (local) of our listings in
                (region, category), or None when we do not sell there.
            best_response: profit-maximizing price for (self id, offer position, region).
        """
        b = self.behaviour
        if b.kind == "fixed" or day == 0 or day % b.reprice_every_days:
            return
        new = self.price_local.copy()
        for k in range(len(new)):
            if b.kind == "best_response":
                new[k] = best_response(self.unique_id, k, int(self.region[k]))
                continue
            ours = our_min_price(int(self.region[k]), int(self.category[k]))
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
