"""Delivery speed moves customers' purchase rate and their dropout (promise vs cross-border).

A customer's purchase rate (BG/NBD occasions a day) is multiplied by

    min((expected_days / reference_days) ** (-experience.delivery_rate_elasticity),
        experience.delivery_rate_max_factor)

where ``expected_days`` is the promise on the listing of the lane that carries the region's
orders today (the local or regional warehouse's once it ships, else the cross-border one) and
``reference_days`` is the promise of the region's cross-border lane. A region served
cross-border therefore runs exactly as with no such rule; a warehouse (a shorter promise)
raises its customers' rate and a slower lane lowers it. The optional cap
(``delivery_rate_max_factor``, None = none) saturates the speed-up: a customer cannot buy
more often than their need for the category, however fast the parcel comes, so a warehouse
that cuts 38 days to 3 raises the rate no more than one that cuts 18 to 3. Only customers
(consumers who have ordered from us) are affected: how fast we deliver changes how often our
buyers come back to the category with us in mind, not the occasions of consumers who have
never bought from us.

The multiplier is one number per region (no per-consumer array): ``RegionalConsumers._schedule``
applies it to customers at each draw (O(occasions)). When it changes (a warehouse opens or
closes) the pending next occasions of the region's alive customers are rescaled in
operational time, ``now + (tau - now) x old / new``, which is exact for the exponential
waiting times and needs no new random draws (common random numbers kept). Customers waiting
for a parcel are left alone: their next occasion is drawn at delivery with the new rate.
No cost is booked here: the warehouse's setup, running and stock costs already are.

**Dropout.** With ``experience.delivery_dropout_elasticity`` a customer's dropout probability at
an occasion is multiplied by ``(expected_days / reference_days) ** elasticity`` as well: long
delivery is a churn cause on its own, not only when a parcel is late against its promise
(DOMAIN's churn causes: slow delivery; cross-border adds long delivery). A region served
cross-border keeps BG/NBD's dropout exactly; a warehouse's shorter promise lowers it and a
slower lane raises it. It applies to customers who had bought from us before the occasion (a
consumer's first purchase comes before they have waited for one of our parcels). Only a
probability is scaled, with the occasion's own uniform: common random numbers are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.consumers import NO_OCCASION

if TYPE_CHECKING:
    from sim.consumers import RegionalConsumers
    from sim.model import MarketModel


def rate_multiplier(
    elasticity: float,
    expected_days: float,
    reference_days: float,
    max_factor: float | None = None,
) -> float:
    """min((expected / reference) ** -elasticity, max_factor); 1.0 when either promise is not
    positive. ``max_factor`` (None: no cap) bounds only the speed-up, not a slower lane's cut."""
    if elasticity == 0.0 or expected_days <= 0.0 or reference_days <= 0.0:
        return 1.0
    factor = float((expected_days / reference_days) ** (-elasticity))
    if max_factor is not None and factor > max_factor:
        return float(max_factor)
    return factor


def rescale_pending(pop: RegionalConsumers, day: int, old: float, new: float) -> int:
    """Rescale the pending next occasions of ``pop``'s alive customers from rate factor
    ``old`` to ``new`` (from the start of ``day``); return how many were rescaled."""
    n = pop.n
    idx = np.flatnonzero(pop.customer[:n] & pop.alive[:n])
    if not len(idx):
        return 0
    tau = pop.next_tau[idx].astype(np.float64)
    end_tau = pop.season_cumulative[pop.horizon_days]
    awaiting = (pop.next_day[idx] == NO_OCCASION) & (tau < end_tau)  # a parcel on its way
    idx, tau = idx[~awaiting], tau[~awaiting]
    now = pop.season_cumulative[day]
    tau = now + np.maximum(tau - now, 0.0) * (old / new)
    pop.next_tau[idx] = tau
    days = np.searchsorted(pop.season_cumulative, tau, side="right") - 1
    pop.next_day[idx] = np.where(days < pop.horizon_days, days, NO_OCCASION).astype(np.int16)
    return len(idx)


def dropout_multiplier(elasticity: float, expected_days: float, reference_days: float) -> float:
    """(expected / reference) ** elasticity; 1.0 when either promise is not positive."""
    if elasticity == 0.0 or expected_days <= 0.0 or reference_days <= 0.0:
        return 1.0
    return float((expected_days / reference_days) ** elasticity)


class DeliveryRate:
    """Keeps each region's customer rate and dropout factors in step with the lane serving it."""

    def __init__(self, model: MarketModel):
        self.model = model
        experiences = [r.experience for r in model.scenario.regions]
        self.elasticity = [e.delivery_rate_elasticity for e in experiences]
        self.max_factor = [e.delivery_rate_max_factor for e in experiences]
        self.dropout_elasticity = [e.delivery_dropout_elasticity for e in experiences]
        self.active = any(e > 0.0 for e in self.elasticity + self.dropout_elasticity)

    def update(self, day: int) -> None:
        """Set today's factors per region (call before the day's occasions)."""
        if not self.active:
            return
        firm = self.model.firm
        for r, pop in enumerate(self.model.consumers):
            reference = firm.outbound[r]
            if reference is None:
                continue
            if self.elasticity[r] == 0.0 and self.dropout_elasticity[r] == 0.0:
                continue
            lane = firm.serving_lane(r)
            pop.customer_dropout = dropout_multiplier(
                self.dropout_elasticity[r], lane.promised_days, reference.promised_days
            )
            if self.elasticity[r] == 0.0:
                continue
            new = rate_multiplier(
                self.elasticity[r],
                lane.promised_days,
                reference.promised_days,
                self.max_factor[r],
            )
            old = pop.customer_rate
            if new != old:
                pop.customer_rate = new
                rescale_pending(pop, day, old, new)
