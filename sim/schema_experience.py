"""Scenario schema, delivery experience: days late, complaints, service recovery, rate clock."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.schema_types import MAX_DURATION, Hours, NonNegative, PositiveHours, Probability, Strict

Days = Annotated[float, Field(ge=0.0, le=MAX_DURATION, allow_inf_nan=False)]
RateCap = Annotated[float, Field(ge=1.0, le=100.0, allow_inf_nan=False)]  # unit-less factor


class Experience(Strict):
    """How the size of a delay, complaints and the response to a problem move a customer.

    Every default is neutral (a scenario without this block runs as before): lateness is
    on/off, nobody complains, a late parcel does not change the purchase rate, local
    service absorbs ``localization_costs.local_service_late_softening`` of a late parcel's
    damage, and a purchase does not hold back the buyer's next occasion.
    """

    late_days_full: Days = 0.0
    """Days late (delivered minus promised) at which a parcel does its full damage
    (satisfaction target ``service.late_satisfaction``, the full loyalty loss and rate cut);
    the damage grows linearly up to it. 0: any lateness does the full damage."""
    late_rate_multiplier: Probability = 1.0
    """Purchase-rate multiplier after a parcel late by ``late_days_full`` or more, or lost
    (repeat intent; interpolated for smaller delays). It holds until the customer's next
    delivery without a problem."""
    complaint_probability: Probability = 0.0
    """Share of on-time deliveries that end in a complaint."""
    complaint_uplift_per_late_day: NonNegative = 0.0
    """Complaint probability x (1 + uplift x min(days late, ``complaint_late_days_cap``))."""
    complaint_late_days_cap: Days = 6.0
    """Days late beyond which complaints rise no further."""
    recovery_max: Probability | None = None
    """Share of a problem's damage to satisfaction and loyalty (late, lost, returned or
    refused parcel, complaint) that an immediate service response undoes; it halves every
    ``recovery_half_life_hours`` of response time. None keeps the older rule (only local
    service softens, only late parcels, by ``localization_costs.local_service_late_softening``)."""
    recovery_half_life_hours: PositiveHours = 24.0
    """Response hours after which a recovery undoes half as much."""
    response_hours: Hours = 36.0
    """Hours until the home team answers a problem (no local customer service)."""
    local_response_hours: Hours = 2.0
    """Hours until local customer service answers a problem."""
    delivery_rate_elasticity: Annotated[float, Field(ge=0.0, le=3.0, allow_inf_nan=False)] = 0.0
    """Customers' purchase rate x (promised days of the lane serving the region / promised
    days of its cross-border lane) ** -elasticity (``sim.delivery_rate``): 0 leaves the rate
    alone; a local warehouse's shorter promise then shortens the repurchase cycle."""
    delivery_rate_max_factor: RateCap | None = None
    """Cap on ``delivery_rate_elasticity``'s speed-up factor (unit-less, >= 1): a customer
    cannot buy more often than their need for the category, however fast we deliver. Only
    the speed-up is capped (a slower lane's cut is not). None: no cap (the pure power law)."""
    delivery_dropout_elasticity: Annotated[float, Field(ge=0.0, le=3.0, allow_inf_nan=False)] = 0.0
    """Customers' dropout probability at an occasion x (promised days of the lane serving the
    region / promised days of its cross-border lane) ** elasticity (``sim.delivery_rate``): long
    delivery is a churn cause even when parcels are on time. 0 leaves dropout alone; a local
    warehouse's shorter promise then lowers its customers' churn."""
    rate_keeps_dropout_per_day: bool = False
    """The delivery-driven rate factors (``late_rate_multiplier``'s repeat intent and
    ``delivery_rate_elasticity``'s speed factor ``m``) leave a customer's dropout per day
    unchanged: dropout per occasion becomes ``min(p / m, 1)`` (``sim.dropout_clock``).
    False: BG/NBD's dropout per occasion, so a faster cycle adds dropout chances and a late
    parcel's rate cut removes some."""
    restart_clock_at_delivery: bool = False
    """A buyer has no purchase occasion while the parcel travels; the next one is drawn from
    the day after it arrives (or is lost), so slower delivery lengthens the repurchase cycle."""
