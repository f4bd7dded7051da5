"""Multinomial-logit choice: segment utility, closed-form shares and a Gumbel-max sampler."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.contract import PAYMENT_METHODS

if TYPE_CHECKING:
    from sim.consumers import CategoryOffers
    from sim.scenario import Segment


def logit_shares(utilities: np.ndarray, outside_utility: float | np.ndarray = 0.0) -> np.ndarray:
    """Choice probabilities of the inside options (last axis) with an outside option.

    Args:
        utilities: deterministic utilities, shape ``(..., J)``; ``-inf`` marks an option that
            is not available.
        outside_utility: utility of not buying, broadcast against ``utilities[..., 0]``.

    Returns:
        Probabilities of the same shape; the outside share is ``1 - sum``.
    """
    u = np.asarray(utilities, dtype=float)
    u0 = np.broadcast_to(np.asarray(outside_utility, dtype=float), u.shape[:-1])
    m = np.maximum(np.max(u, axis=-1, initial=-np.inf), u0)
    e = np.exp(u - m[..., None])
    e0 = np.exp(u0 - m)
    return e / (e0 + e.sum(axis=-1))[..., None]


def sample_choices(
    utilities: np.ndarray,
    outside_utility: float | np.ndarray,
    rng: np.random.Generator | None = None,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Draw one choice per row by Gumbel-max; ``-1`` means the outside option.

    Args:
        utilities: ``(n, J)`` float32/float64 deterministic utilities (``-inf`` = unavailable).
        outside_utility: scalar or ``(n,)`` utility of not buying.
        rng: generator for the Gumbel noise (``n * (J + 1)`` draws, row-major), or
        noise: precomputed standard Gumbel noise ``(n, J + 1)``, last column the outside option
            (used for counter-based common random numbers, see ``sim.keyed``).

    Returns:
        ``(n,)`` int array of chosen inside indices, ``-1`` for the outside option.
    """
    n, j = utilities.shape
    if noise is None:
        if rng is None:
            raise ValueError("sample_choices needs `rng` or `noise`")
        noise = rng.gumbel(size=(n, j + 1)).astype(utilities.dtype, copy=False)
    elif noise.shape != (n, j + 1):
        raise ValueError(f"noise must have shape {(n, j + 1)}, got {noise.shape}")
    noise[:, :j] += utilities
    noise[:, j] += np.asarray(outside_utility, dtype=utilities.dtype)
    choice = np.argmax(noise, axis=1)
    return np.where(choice == j, -1, choice)


def segment_mean_utility(
    seg: Segment,
    quality: np.ndarray,
    eco: np.ndarray,
    price_ref: np.ndarray,
    delivery_days: np.ndarray,
) -> np.ndarray:
    """Mean non-random utility of offers for a segment's average consumer (prices in
    reference-base units; the segment's mean price sensitivity)."""
    return (
        seg.quality_weight * quality
        + seg.eco_weight * eco
        - seg.price_sensitivity.mean * price_ref
        - seg.delivery_weight_per_day * delivery_days
    )


def rival_view(
    seg: Segment, offers: CategoryOffers, supported: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """What a competitor's best response needs of a segment: its mean price sensitivity (per
    reference-base unit), the share of it preferring a payment method we do not support
    (``supported`` per ``PAYMENT_METHODS``), and its mean utility of each competitor offer."""
    unsupported = sum(
        v for m, v in seg.payment_preferences.items() if not supported[PAYMENT_METHODS.index(m)]
    )
    comp_v = segment_mean_utility(
        seg,
        offers.comp_quality,
        offers.comp_eco,
        offers.comp_price_ref,
        offers.comp_delivery_days,
    )
    return seg.price_sensitivity.mean, unsupported, comp_v
