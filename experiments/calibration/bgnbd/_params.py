"""BG/NBD parameters, time units, customer-data checks and the scenario repeat block."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Length of one time unit in days, by the ``period`` code used throughout this package.
PERIOD_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0}

#: How an expectation is computed: closed form (needs ``a > 1``) or quadrature (any ``a``).
Method = Literal["closed_form", "quadrature"]


def period_days(period: str) -> float:
    """Length in days of the time unit ``period`` (``"D"`` or ``"W"``).

    Raises:
        ValueError: If ``period`` is not a key of :data:`PERIOD_DAYS`.
    """
    try:
        return PERIOD_DAYS[period]
    except KeyError:
        raise ValueError(f"period must be one of {sorted(PERIOD_DAYS)}, got {period!r}") from None


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters.

    Attributes:
        r: Shape of the gamma distribution of purchase rates across customers.
        alpha: Scale of that gamma distribution (rate parameter), in the summary's time unit:
            a customer's purchase rate has mean ``r / alpha`` purchases per unit.
        a: First shape parameter of the beta distribution of dropout probabilities.
        b: Second shape parameter of that beta distribution.
    """

    r: float
    alpha: float
    a: float
    b: float

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "a", "b"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"BG/NBD parameter {name} must be finite and > 0, got {value!r}")

    def as_array(self) -> NDArray[np.float64]:
        """Return ``[r, alpha, a, b]`` as a float array."""
        return np.array([self.r, self.alpha, self.a, self.b], dtype=float)


def customer_arrays(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Check a customer summary and return it as flat float arrays ``(x, t_x, T)``.

    Args:
        frequency: Repeat purchases per customer (``x``), whole numbers >= 0.
        recency: Time of last minus first purchase (``t_x``), with ``0 <= t_x <= T``.
        T: Observation time since first purchase.

    Raises:
        ValueError: On different lengths, non-finite values or inconsistent values.
    """
    x = np.asarray(frequency, dtype=float).ravel()
    tx = np.asarray(recency, dtype=float).ravel()
    big_t = np.asarray(T, dtype=float).ravel()
    if not (x.shape == tx.shape == big_t.shape):
        raise ValueError(
            f"frequency, recency and T must have the same length, got {x.size}, {tx.size}, "
            f"{big_t.size}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(tx)) and np.all(np.isfinite(big_t))):
        raise ValueError("frequency, recency and T must be finite")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative whole number of repeat purchases")
    if np.any(tx < 0) or np.any(tx > big_t * (1 + 1e-12) + 1e-12):
        raise ValueError("recency must satisfy 0 <= recency <= T for every customer")
    return x, tx, big_t


def to_scenario_fragment(params: BgNbdParams, period: str) -> dict[str, float]:
    """Convert parameters to the simulator's per-day repeat block.

    ``alpha`` is a rate scale (the purchase rate is Gamma(r, rate=alpha) per unit), so a
    weekly ``alpha`` becomes ``alpha_days = 7 * alpha``; ``r``, ``a`` and ``b`` are unit-free.

    Args:
        params: Fitted parameters in ``period`` units.
        period: ``"D"`` or ``"W"``.

    Returns:
        ``{"r": ..., "alpha_days": ..., "a": ..., "b": ...}``.
    """
    unit_days = period_days(period)
    return {
        "r": float(params.r),
        "alpha_days": float(params.alpha * unit_days),
        "a": float(params.a),
        "b": float(params.b),
    }
