"""Delivery experience: days late grade the damage, complaints, service recovery, rate clock.

What one completed order does to its buyer (region block ``experience``, see
:class:`sim.schema_experience.Experience`):

* **Days late** (delivered minus promised, continuous) grade the damage ``g`` in [0, 1]:
  ``g = min(1, days late / late_days_full)`` (1 for any lateness when ``late_days_full``
  is 0). The satisfaction target falls from 1 to ``service.late_satisfaction`` with ``g``;
  the loyalty loss and the purchase-rate cut scale with ``g`` too. A lost parcel does the
  full damage.
* **Repeat intent**: after a late or lost parcel the buyer's purchase rate is multiplied by
  ``1 - (1 - late_rate_multiplier) x g`` until their next delivery without a problem; the
  next occasion is redrawn from the day after the delivery (memoryless, so the draw is
  exact). Dropout stays BG/NBD's (only at occasions), raised through the lower
  satisfaction by ``service.dissatisfaction_dropout_uplift``.
* **Complaints**: a delivered parcel ends in a complaint with probability
  ``complaint_probability x (1 + complaint_uplift_per_late_day x min(days late, cap))``
  (counter-based draw per order, the same in every variant).
* **Service recovery**: a problem (late, lost, returned or refused parcel, complaint) is
  answered after ``response_hours`` (home team) or ``local_response_hours`` (local customer
  service); the answer undoes ``recovery_max x 0.5 ** (hours / recovery_half_life_hours)``
  of the damage to satisfaction and loyalty (not the rate cut: a refund or apology restores
  how the customer feels about us, and through it their dropout risk, but the next need
  still has to arise). Churn is BG/NBD dropout at occasions, so recovery lowers churn
  through satisfaction, whereas restoring the rate would add occasions and with them
  dropout chances.
* **Rate clock**: with ``restart_clock_at_delivery`` a buyer has no occasion while the
  parcel travels; the next one is drawn from the day after it arrives.

A scenario that uses none of this runs exactly as before (the legacy branch below is the
older rule, operation for operation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import keyed
from sim.consumers import NO_OCCASION
from sim.id_sets import sorted_distinct

if TYPE_CHECKING:
    from sim.consumers import RegionalConsumers
    from sim.model import MarketModel
    from sim.schema_experience import Experience

#: salt of the next-occasion draw after a delivery (``RegionalConsumers._schedule`` adds it to
#: ``keyed.SALT_NEXT``; retention uses 100 + day)
SCHEDULE_SALT = 50


@dataclass(frozen=True)
class Completed:
    """The orders of one region that completed today (one entry per order)."""

    consumers: np.ndarray
    late_days: np.ndarray  # days beyond the promise (0 when on time or not delivered)
    late: np.ndarray
    returned: np.ndarray  # returned or refused at the door
    lost: np.ndarray
    complaint: np.ndarray


def damage(spec: Experience, late_days: np.ndarray) -> np.ndarray:
    """Damage grade in [0, 1] of each delivery from its days late (0 on time)."""
    late = late_days > 0
    if spec.late_days_full <= 0:
        return late.astype(np.float64)
    return np.where(late, np.minimum(1.0, late_days / spec.late_days_full), 0.0)


def recovery_share(spec: Experience, local_service: bool) -> float:
    """Share of a problem's damage the service response undoes (new rule only)."""
    if spec.recovery_max is None:
        return 0.0
    hours = spec.local_response_hours if local_service else spec.response_hours
    return float(spec.recovery_max * 0.5 ** (hours / spec.recovery_half_life_hours))


def complaint_probability(spec: Experience, late_days: np.ndarray) -> np.ndarray:
    """Probability that a delivered parcel ends in a complaint, from its days late."""
    late = np.minimum(late_days, spec.complaint_late_days_cap)
    p = spec.complaint_probability * (1.0 + spec.complaint_uplift_per_late_day * late)
    return np.minimum(p, 1.0)


class DeliveryExperience:
    """Applies the experience rules to each day's completed orders, region by region."""

    def __init__(self, model: MarketModel):
        self.model = model
        regions = model.scenario.regions
        self.specs = [r.experience for r in regions]
        self.softening = model.scenario.firm.localization_costs.local_service_late_softening
        self.any_complaints = any(s.complaint_probability > 0 for s in self.specs)
        self.restart = [s.restart_clock_at_delivery for s in self.specs]
        self._orders_seen = 0
        for spec, pop in zip(self.specs, model.consumers, strict=True):
            if spec.late_rate_multiplier < 1.0:
                pop.intent = np.ones(pop.capacity, dtype=np.float16)

    # ------------------------------------------------------------------ per order
    def draw_complaints(
        self, keys: np.ndarray, region: np.ndarray, delivered: np.ndarray, late_days: np.ndarray
    ) -> np.ndarray:
        """Which delivered parcels end in a complaint (counter-based draw per order)."""
        if not self.any_complaints:
            return np.zeros(len(region), dtype=bool)
        if len(region) and (region == region[0]).all():  # one region's orders: no gathers
            p = complaint_probability(self.specs[int(region[0])], late_days)
            return delivered & (keyed.uniforms(keys, keyed.SALT_COMPLAINT) < p)
        p = np.zeros(len(region))
        for r in np.unique(region):
            sel = region == r
            p[sel] = complaint_probability(self.specs[int(r)], late_days[sel])
        return delivered & (keyed.uniforms(keys, keyed.SALT_COMPLAINT) < p)

    def _legacy(self, pop: RegionalConsumers, c: Completed, softening: float):
        """The older rule: lateness on/off, only local service softens late parcels."""
        sv = pop.spec.service
        late_target = sv.late_satisfaction + softening * (1.0 - sv.late_satisfaction)
        target = np.where(
            c.lost,
            0.0,
            np.where(c.returned, sv.returned_satisfaction, np.where(c.late, late_target, 1.0)),
        ).astype(np.float32)
        gain = np.where(
            c.late | c.lost,
            -sv.late_loyalty_loss * (1.0 - softening),
            np.where(c.returned, 0.0, sv.loyalty_gain_per_order),
        ).astype(np.float32)
        return target, gain

    def _graded(self, pop: RegionalConsumers, c: Completed, g: np.ndarray, rho: np.ndarray):
        """Satisfaction target and loyalty change graded by days late, after recovery."""
        sv = pop.spec.service
        late_target = 1.0 - g * (1.0 - sv.late_satisfaction)
        raw = np.where(
            c.lost,
            0.0,
            np.where(
                c.returned,
                sv.returned_satisfaction,
                np.where(c.late, late_target, np.where(c.complaint, sv.returned_satisfaction, 1.0)),
            ),
        )
        target = (raw + rho * (1.0 - raw)).astype(np.float32)
        gain = np.where(
            c.late | c.lost,
            -sv.late_loyalty_loss * g * (1.0 - rho),
            np.where(c.returned | c.complaint, 0.0, sv.loyalty_gain_per_order),
        ).astype(np.float32)
        return target, gain

    def apply(self, r: int, d: int, c: Completed) -> None:
        """Move satisfaction, loyalty and repeat intent of region ``r``'s buyers whose
        orders completed on day ``d``; restart their rate clock where the scenario says so."""
        m = self.model
        spec, pop = self.specs[r], m.consumers[r]
        local = m.firm.localization[r].local_service
        softening = self.softening if local else 0.0
        plain = spec.late_days_full <= 0 and spec.complaint_probability <= 0
        if plain and spec.recovery_max is None:
            target, gain = self._legacy(pop, c, softening)
            g = c.late.astype(np.float64)
            rho_problem = np.where(c.late, softening, 0.0)
        else:
            g = np.where(c.lost, 1.0, damage(spec, c.late_days))
            if spec.recovery_max is None:  # the older rule: local service, late parcels
                rho_problem = np.where(c.late | c.lost, softening, 0.0)
            else:
                problem = c.late | c.lost | c.returned | c.complaint
                rho_problem = np.where(problem, recovery_share(spec, local), 0.0)
            target, gain = self._graded(pop, c, g, rho_problem)
        pop.record_deliveries(c.consumers, target, gain)
        if pop.intent is None and not self.restart[r]:
            return
        alive = pop.alive[c.consumers]
        redraw = np.zeros(len(c.consumers), dtype=bool)
        if pop.intent is not None:
            cut = (1.0 - spec.late_rate_multiplier) * g
            intent = np.where(c.late | c.lost, 1.0 - cut, 1.0).astype(np.float16)
            redraw = pop.intent[c.consumers] != intent
            pop.intent[c.consumers] = intent  # several parcels on one day: the last wins
        if self.restart[r]:
            redraw[:] = True
        who = sorted_distinct(c.consumers[redraw & alive], pop.n)
        if len(who) and d + 1 < pop.horizon_days:
            start = np.full(len(who), pop.season_cumulative[d + 1])
            pop._schedule(who, start, salt=SCHEDULE_SALT)
        elif len(who):
            pop.next_day[who] = NO_OCCASION

    # ------------------------------------------------------------------ rate clock
    def await_parcels(self) -> None:
        """Buyers of today's orders have no occasion until their parcel completes (regions
        with ``restart_clock_at_delivery``); call after the day's occasions."""
        book = self.model.firm.orders
        start, self._orders_seen = self._orders_seen, book.n
        if not any(self.restart) or book.n == start:
            return
        ids = np.arange(start, book.n)
        region = book.take("region", ids)
        consumer = book.take("consumer", ids)
        for r, pop in enumerate(self.model.consumers):
            if self.restart[r]:
                buyers = consumer[region == r]
                pop.next_day[buyers[pop.alive[buyers]]] = NO_OCCASION
