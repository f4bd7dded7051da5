"""Dropout per day under delivery-driven rate changes: a faster or slower buyer keeps a lifetime.

BG/NBD drops a customer out only right after a purchase occasion, with probability ``p``.
A lever that multiplies a customer's occasion rate by ``m`` then multiplies their dropout
per day by about ``m`` too: a closer warehouse (``sim.delivery_rate``, ``m`` ~2) would double
its buyers' churn, and a late parcel's repeat-intent cut (``sim.experience``, ``m`` 0.4) would
make its buyers *safer*. Neither is what the evidence says: slow delivery is a churn cause,
and a faster cycle means more of the buyer's category purchases come to us, not a shorter life.

With ``experience.rate_keeps_dropout_per_day`` the occasion dropout of a customer whose
delivery-driven rate factor is ``m`` (repeat intent x delivery-speed factor) becomes

    p_m = min(p / m, 1)

Occasions are a Poisson process at rate ``m x rate`` and each one ends the customer with
probability ``p_m`` independently, so dropouts are a thinned Poisson process at rate
``m x rate x p_m = rate x p``: the lifetime is the one at the unchanged rate, exactly, unless
``p > m`` (a very likely dropout after a deep rate cut) where the cap at 1 leaves it shorter
than that. ``p`` is the occasion's whole dropout (the Beta draw, a retention action's
multiplier and the dissatisfaction uplift). This is the rule retention actions already have
(``RetentionAction.hazard_neutral``), applied to the rate changes delivery causes. Customers
with ``m == 1`` (most of them, and everyone in a region without these mechanisms) keep ``p``
exactly, so a scenario that does not ask for the rule runs bit-identically. The speed factor
is the one the occasion came at: a consumer whose occasion makes them a customer drew it at the
non-customer rate, so their dropout at it is not divided (``sim.consumers`` reads customer
status before the purchase).
"""

from __future__ import annotations

import numpy as np


def delivery_rate_factor(
    intent: np.ndarray | None, customer_rate: float, is_customer: np.ndarray
) -> np.ndarray | None:
    """Each occasion's delivery-driven rate factor ``m`` (repeat intent x delivery speed),
    or None when it is 1 for everyone. ``intent`` is taken at the occasions already."""
    m = None if intent is None else intent.astype(np.float64)
    if customer_rate != 1.0:
        speed = np.where(is_customer, customer_rate, 1.0)
        m = speed if m is None else m * speed
    if m is None or not np.any(m != 1.0):
        return None
    return m


def per_occasion(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``min(p / m, 1)`` where ``m != 1``, ``p`` (unchanged) elsewhere."""
    return np.where(m != 1.0, np.minimum(p / m, 1.0), p)
