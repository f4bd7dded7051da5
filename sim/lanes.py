"""Logistics lanes: SimPy queueing networks of staged servers wrapped in a Mesa agent."""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import mesa
import numpy as np
import simpy
from scipy.special import ndtri

from sim import keyed
from sim.calendar import HOURS_PER_DAY
from sim.scenario import Deterministic, Disruption, Duration, Exponential, Lane, LogNormal

#: Hours in one simulated day; day ``d`` spans hours ``[24 d, 24 d + 24)``.
#: Request priority of shipments (disruptions use 0, i.e. they queue ahead of shipments).
SHIPMENT_PRIORITY = 1
DISRUPTION_PRIORITY = 0


def sample_duration(
    d: Duration, rng: np.random.Generator, size: int | None = None
) -> float | np.ndarray:
    """Draw one duration (``size=None``, a float) or ``size`` durations (an array).

    The unit is whatever the field holding ``d`` names (hours for service and customs
    delays, days for last-mile times).

    Args:
        d: An :class:`Exponential` (by mean), :class:`LogNormal` (by mean and standard
            deviation) or :class:`Deterministic` duration.
        rng: The generator every draw comes from.
        size: Number of draws, or None for a scalar.

    Returns:
        A float when ``size`` is None, else a float array of shape ``(size,)``.

    Raises:
        TypeError: If ``d`` is not one of the three duration models.
    """
    if isinstance(d, Exponential):
        out = rng.exponential(scale=d.mean, size=size)
    elif isinstance(d, LogNormal):
        if d.sd == 0.0:
            return float(d.mean) if size is None else np.full(size, float(d.mean))
        mu, sigma = _lognormal_mu_sigma(d)
        out = rng.lognormal(mean=mu, sigma=sigma, size=size)
    elif isinstance(d, Deterministic):
        return float(d.value) if size is None else np.full(size, float(d.value))
    else:
        raise TypeError(f"unknown duration model {type(d).__name__}")
    return float(out) if size is None else np.asarray(out, dtype=float)


def duration_quantile(d: Duration, u: np.ndarray) -> np.ndarray:
    """The durations at uniform quantiles ``u`` in (0, 1) (the inverse CDF of ``d``).

    Keyed uniforms (``sim.keyed``) give keyed durations with the same distribution as
    :func:`sample_duration`'s: Exponential ``-mean log(u)`` (``1 - u`` is as uniform as
    ``u``), LogNormal ``exp(mu + sigma ndtri(u))``, Deterministic its value.

    Args:
        d: An :class:`Exponential`, :class:`LogNormal` or :class:`Deterministic` duration.
        u: Uniforms in the open interval (0, 1).

    Returns:
        A float array shaped like ``u``, in the unit of the field holding ``d``.

    Raises:
        TypeError: If ``d`` is not one of the three duration models.
    """
    u = np.asarray(u, dtype=float)
    if isinstance(d, Exponential):
        return -d.mean * np.log(u)
    if isinstance(d, LogNormal):
        if d.sd == 0.0:
            return np.full(u.shape, float(d.mean))
        mu, sigma = _lognormal_mu_sigma(d)
        return np.exp(mu + sigma * ndtri(u))
    if isinstance(d, Deterministic):
        return np.full(u.shape, float(d.value))
    raise TypeError(f"unknown duration model {type(d).__name__}")


def _lognormal_mu_sigma(d: LogNormal) -> tuple[float, float]:
    """The underlying normal's mean and standard deviation of a LogNormal given by its own
    mean and standard deviation (``sd > 0``)."""
    sigma_sq = math.log1p((d.sd / d.mean) ** 2)
    return math.log(d.mean) - sigma_sq / 2.0, math.sqrt(sigma_sq)


def disruption_blocked_servers(servers: int, capacity_multiplier: float) -> int:
    """Servers a disruption takes out of service: ``servers * (1 - multiplier)`` rounded half up.

    ``capacity_multiplier`` 0 blocks every server, 1 blocks none, 0.5 of 4 servers blocks 2
    (and 0.5 of 3 blocks 2: halves round up, unlike Python's banker's ``round``).

    Args:
        servers: Servers of the stage.
        capacity_multiplier: Share of capacity that remains, in [0, 1].

    Returns:
        The number of servers to block, in ``[0, servers]``.
    """
    blocked = math.floor(servers * (1.0 - capacity_multiplier) + 0.5 + 1e-9)
    return min(max(blocked, 0), servers)


@dataclass(frozen=True)
class ShipmentResult:
    """A shipment that left the lane's last stage, with each of its orders' fate.

    Attributes:
        order_ids: The orders consolidated into the shipment.
        arrival_hour: Hour the shipment finished its last stage (incl. any customs hold).
        delivered_hour: Per order, ``arrival_hour + 24 * last_mile_days``. For lost orders
            this is the hour they would have been delivered.
        lost: Per order, True when the order was lost in transit.
        units: Units in the shipment.
        departure_hour: Hour the shipment entered the first stage's queue.
        placed_day: Per order, the day it was placed, if the caller supplied it.
    """

    order_ids: np.ndarray
    arrival_hour: float
    delivered_hour: np.ndarray
    lost: np.ndarray
    units: int
    departure_hour: float
    placed_day: np.ndarray | None = None


class LaneAgent(mesa.Agent):
    """One logistics lane: shipments queue through its stages on a shared SimPy clock (hours).

    Every stage is a :class:`simpy.PriorityResource` with ``stage.servers`` servers; shipments
    request with priority 1, disruptions with priority 0 (non-preemptive). Stage service and
    customs holds are drawn per shipment from ``lane_rng``; each order's last-mile days and
    lost flag from keyed uniforms of its key (``sim.parcels``) when the caller gives the
    orders' keys, so they are paired across variants whatever else rides on the lane, and
    from ``lane_rng`` otherwise (stock transfers, a bare lane). A lane has no
    daily ``step`` of its own (nothing calls agents' steps): the model's logistics phase
    (``sim.logistics``) hands it the day's orders (:meth:`ship_orders`) and stock
    (:meth:`submit_shipment`), and advances the shared clock that moves its shipments.

    Attributes:
        lane: The lane's scenario description.
        env: The shared SimPy environment (time unit: hours).
        lane_rng: The generator of the lane's shipment-level draws, and of its orders'
            last-mile and loss draws when no keys are given (Mesa's own ``rng`` property is
            the model's generator and is not used here).
        resources: Stage name to its SimPy resource.
        completed: Shipments finished since the last :meth:`pop_completed`.
        shipments_started: Shipments submitted so far.
        shipments_completed: Shipments that finished their last stage so far.
        shipments_inspected: Shipments held for customs inspection so far.
        units_shipped: Units in submitted shipments so far.
        stage_wait_hours: Stage name to each shipment's queue wait (request to grant), hours.
        stage_service_hours: Stage name to each shipment's service time, hours.
    """

    def __init__(
        self,
        model: mesa.Model,
        lane: Lane,
        env: simpy.Environment,
        rng: np.random.Generator,
    ) -> None:
        """Create the stage resources and schedule the lane's disruptions.

        Args:
            model: The Mesa model hosting this agent.
            lane: The lane's scenario description.
            env: The shared SimPy environment; one time unit is one hour.
            rng: The generator for service and customs draws (and last-mile and loss draws
                of orders given without keys).
        """
        super().__init__(model)
        self.lane = lane
        self.env = env
        self.lane_rng = rng
        self.resources: dict[str, simpy.PriorityResource] = {
            stage.name: simpy.PriorityResource(env, capacity=stage.servers) for stage in lane.stages
        }
        self.completed: list[ShipmentResult] = []
        self.shipments_started = 0
        self.shipments_completed = 0
        self.shipments_inspected = 0
        self.units_shipped = 0
        self.stage_wait_hours: dict[str, list[float]] = {s.name: [] for s in lane.stages}
        self.stage_service_hours: dict[str, list[float]] = {s.name: [] for s in lane.stages}
        for disruption in lane.disruptions:
            self.schedule_disruption(disruption)

    def schedule_disruption(self, disruption: Disruption) -> None:
        """Take the disruption's servers out of service over its days (from now at the
        earliest); also used by dated ``lane_disruption`` events (``sim.events``)."""
        servers = {s.name: s.servers for s in self.lane.stages}
        blocked = disruption_blocked_servers(
            servers[disruption.stage], disruption.capacity_multiplier
        )
        if blocked > 0 and HOURS_PER_DAY * disruption.end_day > self.env.now:
            self.env.process(self._disruption(disruption, blocked))

    # ------------------------------------------------------------------ statistics
    @property
    def in_system(self) -> int:
        """Shipments submitted but not yet through the last stage."""
        return self.shipments_started - self.shipments_completed

    def freight_cost_base(self, units: int, shipments: int) -> float:
        """Freight cost in base currency of ``units`` units sent in ``shipments`` shipments."""
        return units * self.lane.cost_per_unit_base + shipments * self.lane.cost_per_shipment_base

    def pop_completed(self) -> list[ShipmentResult]:
        """Return the shipments finished since the last call and forget them."""
        out, self.completed = self.completed, []
        return out

    def ship_orders(
        self,
        day: int,
        order_ids: np.ndarray,
        units: np.ndarray,
        keys: np.ndarray | None = None,
    ) -> tuple[float, float]:
        """Dispatch a day's orders (see :meth:`dispatch`); return their freight cost (base) in
        its two parts: per unit, and per shipment (a cost per departure, not per unit)."""
        shipments = self.dispatch(day, order_ids, units, keys=keys)
        return (
            int(units.sum()) * self.lane.cost_per_unit_base,
            shipments * self.lane.cost_per_shipment_base,
        )

    # ------------------------------------------------------------------ shipments
    def submit_shipment(
        self,
        at_hour: float,
        order_ids: np.ndarray,
        units: int,
        placed_day: np.ndarray | None = None,
        keys: np.ndarray | None = None,
    ) -> None:
        """Start a shipment that joins the first stage's queue at ``at_hour``.

        Args:
            at_hour: Hour the shipment departs; must not be before ``env.now``.
            order_ids: The orders travelling together.
            units: Units in the shipment (for statistics and the result record).
            placed_day: Optional per-order placement day, passed through to the result.
            keys: Optional per-order keys (``sim.parcels``, uint64): each order's last-mile
                days and lost flag come from them instead of ``lane_rng``.

        Raises:
            ValueError: If ``at_hour`` is in the past or not finite, or ``placed_day`` or
                ``keys`` does not match ``order_ids`` in length.
        """
        at_hour = float(at_hour)
        if not math.isfinite(at_hour) or at_hour < self.env.now:
            raise ValueError(
                f"at_hour must be a finite hour >= now ({self.env.now}), got {at_hour}"
            )
        order_ids = np.asarray(order_ids)
        placed_day = _per_order("placed_day", placed_day, order_ids)
        keys = _per_order("keys", keys, order_ids)
        self.shipments_started += 1
        self.units_shipped += int(units)
        self.env.process(self._shipment(at_hour, order_ids, int(units), placed_day, keys))

    def dispatch(
        self,
        day: int,
        order_ids: np.ndarray,
        units: np.ndarray,
        *,
        placed_day: np.ndarray | None = None,
        keys: np.ndarray | None = None,
    ) -> int:
        """Consolidate a day's orders into shipments departing at ``lane.departure_hour``.

        Orders are packed in the given order: a shipment takes orders while its units stay at
        most ``lane.max_units_per_shipment``; an order is never split, and an order larger than
        the cap travels alone.

        Args:
            day: The dispatch day; shipments depart at hour ``24 day + departure_hour``.
            order_ids: The orders to send.
            units: Units of each order (non-negative integers).
            placed_day: Optional per-order placement day, passed through to the results.
            keys: Optional per-order keys (``sim.parcels``) of the last-mile and loss draws.

        Returns:
            The number of shipments submitted (0 when there are no orders).

        Raises:
            ValueError: If the arrays differ in length, a unit count is negative, or the
                departure hour has already passed.
        """
        order_ids = np.asarray(order_ids)
        units = np.asarray(units, dtype=np.int64)
        n = order_ids.shape[0] if order_ids.ndim else 0
        if order_ids.ndim != 1 or units.shape != order_ids.shape:
            raise ValueError(
                f"order_ids {order_ids.shape} and units {units.shape} must match (1-D)"
            )
        placed_day = _per_order("placed_day", placed_day, order_ids)
        keys = _per_order("keys", keys, order_ids)
        if n == 0:
            return 0
        if np.any(units < 0):
            raise ValueError("units must be non-negative")
        at_hour = HOURS_PER_DAY * day + self.lane.departure_hour
        cap = self.lane.max_units_per_shipment
        cum = np.concatenate(([0], np.cumsum(units)))
        shipments = 0
        start = 0
        while start < n:
            # Largest end with cum[end] - cum[start] <= cap; at least one order.
            end = int(np.searchsorted(cum, cum[start] + cap, side="right")) - 1
            end = min(max(end, start + 1), n)
            self.submit_shipment(
                at_hour,
                order_ids[start:end],
                int(cum[end] - cum[start]),
                None if placed_day is None else placed_day[start:end],
                None if keys is None else keys[start:end],
            )
            shipments += 1
            start = end
        return shipments

    # ------------------------------------------------------------------ SimPy processes
    def _shipment(
        self,
        at_hour: float,
        order_ids: np.ndarray,
        units: int,
        placed_day: np.ndarray | None,
        keys: np.ndarray | None,
    ) -> Generator[simpy.Event, object, None]:
        env = self.env
        yield env.timeout(at_hour - env.now)
        departure_hour = env.now
        customs = self.lane.customs
        for stage in self.lane.stages:
            resource = self.resources[stage.name]
            requested_hour = env.now
            request = resource.request(priority=SHIPMENT_PRIORITY)
            yield request
            self.stage_wait_hours[stage.name].append(env.now - requested_hour)
            service_hours = sample_duration(stage.service_hours, self.lane_rng)
            self.stage_service_hours[stage.name].append(service_hours)
            yield env.timeout(service_hours)
            resource.release(request)
            if (
                customs is not None
                and customs.stage == stage.name
                and self.lane_rng.random() < customs.inspection_probability
            ):
                self.shipments_inspected += 1
                yield env.timeout(sample_duration(customs.delay_hours, self.lane_rng))
        arrival_hour = env.now
        last_mile_days, lost = self._parcel_fates(order_ids.shape[0], keys)
        self.completed.append(
            ShipmentResult(
                order_ids=order_ids,
                arrival_hour=arrival_hour,
                delivered_hour=arrival_hour + HOURS_PER_DAY * last_mile_days,
                lost=lost,
                units=units,
                departure_hour=departure_hour,
                placed_day=placed_day,
            )
        )
        self.shipments_completed += 1

    def _parcel_fates(self, n: int, keys: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Last-mile days and lost flag of a shipment's ``n`` orders: from the orders' keyed
        uniforms (``keyed.SALT_LAST_MILE``, ``keyed.SALT_PARCEL_LOST``) when given, else from
        ``lane_rng``."""
        lane = self.lane
        if keys is None:
            last_mile_days = sample_duration(lane.last_mile_days, self.lane_rng, size=n)
            return last_mile_days, self.lane_rng.random(n) < lane.loss_probability
        last_mile_days = duration_quantile(
            lane.last_mile_days, keyed.uniforms(keys, keyed.SALT_LAST_MILE)
        )
        return last_mile_days, keyed.uniforms(keys, keyed.SALT_PARCEL_LOST) < lane.loss_probability

    def _disruption(
        self, disruption: Disruption, blocked: int
    ) -> Generator[simpy.Event, object, None]:
        env = self.env
        start_hour = max(HOURS_PER_DAY * disruption.start_day, env.now)
        yield env.timeout(start_hour - env.now)
        resource = self.resources[disruption.stage]
        requests = [resource.request(priority=DISRUPTION_PRIORITY) for _ in range(blocked)]
        yield env.timeout(HOURS_PER_DAY * disruption.end_day - env.now)
        for request in requests:
            if request.triggered:
                resource.release(request)
            else:
                request.cancel()


def _per_order(name: str, values: np.ndarray | None, order_ids: np.ndarray) -> np.ndarray | None:
    """``values`` as an array of one value per order (None stays None).

    Raises:
        ValueError: If ``values`` does not match ``order_ids`` in shape.
    """
    if values is None:
        return None
    values = np.asarray(values)
    if values.shape != order_ids.shape:
        raise ValueError(f"{name} has shape {values.shape}, order_ids {order_ids.shape}")
    return values
