"""BG/NBD time units and the scenario repeat block (the parameters live in ``sim.bgnbd``)."""

from __future__ import annotations

from sim.bgnbd import BgNbdParams

#: Length of one time unit in days, by the ``period`` code used throughout this package.
PERIOD_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0}


def period_days(period: str) -> float:
    """Length in days of the time unit ``period`` (``"D"`` or ``"W"``).

    Raises:
        ValueError: If ``period`` is not a key of :data:`PERIOD_DAYS`.
    """
    try:
        return PERIOD_DAYS[period]
    except KeyError:
        raise ValueError(f"period must be one of {sorted(PERIOD_DAYS)}, got {period!r}") from None


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
