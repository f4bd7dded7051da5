"""Helpers shared by built-in strategies (FX pass-through, per-region price maps)."""

from __future__ import annotations

import numpy as np

from strategies.base import Param, RegionView

FX_PASS_THROUGH = Param(
    "fx_pass_through",
    "float",
    1.0,
    low=0.0,
    high=1.0,
    help="share of FX moves passed into local prices (0 = prices fixed at the reference rate)",
)


def effective_fx(region: RegionView, pass_through: float) -> float:
    """Local-per-base rate used for pricing: reference rate plus a share of the move since."""
    ref = region.fx_reference_local_per_base
    return ref + pass_through * (region.fx_local_per_base - ref)


def base_to_local(region: RegionView, amount_base: np.ndarray, pass_through: float) -> np.ndarray:
    """Convert base-currency amounts to local prices with partial FX pass-through."""
    return np.asarray(amount_base, dtype=float) * effective_fx(region, pass_through)
