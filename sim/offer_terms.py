"""Per-offer choice terms of one day's category offers, computed once and reused by each round."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import keyed

if TYPE_CHECKING:
    from sim.consumers import CategoryOffers, RegionalConsumers


@dataclass(frozen=True)
class OfferTerms:
    """What a consumer's utility needs from a category's offers (ours first, then rivals').

    ``base[s, j]``: segment ``s``'s non-price utility of offer ``j`` (quality, eco score,
    delivery days; our firm-level constant added to ours), float32; ``price``: the offers'
    reference prices, float32; ``option_ids``: the taste-shock id of each offer and, last,
    the outside option (``sim.keyed``), and ``taste_steps`` their salt steps.
    """

    base: np.ndarray
    price: np.ndarray
    option_ids: np.ndarray
    taste_steps: np.ndarray


def offer_terms(pop: RegionalConsumers, o: CategoryOffers) -> OfferTerms:
    """The terms of ``o`` for ``pop``'s segments, kept on ``o`` (offers are built afresh every
    day and never changed, so a day's later rounds of occasions reuse them)."""
    cached = o.__dict__.get("_terms")
    if cached is not None:
        return cached
    quality = np.concatenate([o.our_quality, o.comp_quality])
    eco = np.concatenate([o.our_eco, o.comp_eco])
    delivery = np.concatenate([o.our_delivery_days, o.comp_delivery_days])
    price = np.concatenate([o.our_price_ref, o.comp_price_ref]).astype(np.float32)
    base = (
        pop.quality_weight[:, None] * quality[None, :]
        + pop.eco_weight[:, None] * eco[None, :]
        - pop.delivery_weight[:, None] * delivery[None, :]
    ).astype(np.float32)
    base[:, : o.n_ours] += o.our_constant.astype(np.float32)
    option_ids = np.concatenate(
        [o.our_products, o.comp_ids + pop.n_products, [keyed.OUTSIDE_OPTION_ID]]
    )
    terms = OfferTerms(base, price, option_ids, keyed.taste_steps(option_ids))
    o.__dict__["_terms"] = terms
    return terms
