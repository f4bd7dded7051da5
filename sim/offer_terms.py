"""Per-offer choice terms of one day's category offers, computed once and reused by each round."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import keyed

if TYPE_CHECKING:
    from sim.consumers import CategoryOffers, RegionalConsumers


_MAX_CACHED = 64  # static terms kept per population (line-ups seen recently)


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
    base, option_ids, steps = _static_terms(pop, o)
    price = np.concatenate([o.our_price_ref, o.comp_price_ref]).astype(np.float32)
    terms = OfferTerms(base, price, option_ids, steps)
    o.__dict__["_terms"] = terms
    return terms


def _static_terms(pop: RegionalConsumers, o: CategoryOffers) -> tuple[np.ndarray, ...]:
    """``base``, ``option_ids`` and ``taste_steps`` of ``o``: a pure function of the offers'
    ids, quality, eco score, delivery days and our constant (and of ``pop``'s segment weights,
    fixed for the run). Those change only when a listing, a lane or a competitor's line-up
    changes, not with the daily prices, so they are kept per population, keyed by the
    inputs' contents (a day whose offers differ computes them afresh)."""
    inputs = (
        o.our_products,
        o.comp_ids,
        o.our_quality,
        o.comp_quality,
        o.our_eco,
        o.comp_eco,
        o.our_delivery_days,
        o.comp_delivery_days,
        o.our_constant,
    )
    key = tuple((a.dtype.char, a.tobytes()) for a in inputs)
    cache = pop.__dict__.setdefault("_static_terms", {})
    hit = cache.get(key)
    if hit is not None:
        return hit
    quality = np.concatenate([o.our_quality, o.comp_quality])
    eco = np.concatenate([o.our_eco, o.comp_eco])
    delivery = np.concatenate([o.our_delivery_days, o.comp_delivery_days])
    base = (
        pop.quality_weight[:, None] * quality[None, :]
        + pop.eco_weight[:, None] * eco[None, :]
        - pop.delivery_weight[:, None] * delivery[None, :]
    ).astype(np.float32)
    base[:, : o.n_ours] += o.our_constant.astype(np.float32)
    option_ids = np.concatenate(
        [o.our_products, o.comp_ids + pop.n_products, [keyed.OUTSIDE_OPTION_ID]]
    )
    hit = (base, option_ids, keyed.taste_steps(option_ids))
    for a in hit:
        a.setflags(write=False)  # shared by every day with these offers: read only
    if len(cache) >= _MAX_CACHED:  # bounded: offers that keep changing do not pile up
        cache.clear()
    cache[key] = hit
    return hit
