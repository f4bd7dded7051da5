"""Bass diffusion of awareness: closed form and the exact one-day adoption hazard."""

from __future__ import annotations

import numpy as np

_P_FLOOR = 1e-12


def bass_cdf(t: np.ndarray | float, p: float, q: float, f0: float = 0.0) -> np.ndarray:
    """Adopted share F(t) solving dF/dt = (p + q F)(1 - F) with F(0) = f0 (closed form)."""
    p = max(float(p), _P_FLOOR)
    t = np.asarray(t, dtype=float)
    k = (1.0 - f0) * p / (p + q * f0)
    decay = k * np.exp(-(p + q) * t)
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def daily_adoption_probability(p: float, q: float, f0: float) -> float:
    """Probability that a not-yet-aware consumer becomes aware within one day.

    Integrates the Bass equation exactly over one day from the current adopted share ``f0``
    (holding p and q constant for the day), so a fully mixed population follows the
    continuous-time Bass curve in expectation with no time-discretization bias.
    """
    if f0 >= 1.0:
        return 0.0
    f0 = max(0.0, float(f0))
    f1 = float(bass_cdf(1.0, p, q, f0))
    return min(1.0, max(0.0, (f1 - f0) / (1.0 - f0)))
