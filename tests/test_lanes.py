"""Tests for sim.lanes: queueing theory, exact traces, disruptions, customs and dispatch."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pytest
import simpy

from experiments.check.theory import erlang_wait
from sim.lanes import LaneAgent, ShipmentResult, disruption_blocked_servers, sample_duration
from sim.scenario import Customs, Deterministic, Disruption, Exponential, Lane, LogNormal, Stage


# --------------------------------------------------------------------------- helpers
def det(hours: float) -> Deterministic:
    return Deterministic(dist="deterministic", value=hours)


def make_lane(
    *,
    servers: int = 1,
    service: Exponential | LogNormal | Deterministic | None = None,
    stages: list[Stage] | None = None,
    **kwargs: object,
) -> Lane:
    if stages is None:
        stages = [Stage(name="s", servers=servers, service_hours=service or det(1.0))]
    return Lane(
        id="l", origin="W", destination="R", mode="air", stages=stages, promised_days=5, **kwargs
    )


def make_agent(lane: Lane, seed: int = 0) -> tuple[LaneAgent, simpy.Environment]:
    model = mesa.Model(rng=np.random.default_rng(0))
    env = simpy.Environment()
    return LaneAgent(model, lane, env, np.random.default_rng(seed)), env


def one(i: int) -> np.ndarray:
    return np.array([i])


# --------------------------------------------------------------------------- sample_duration
def test_sample_duration_moments() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    x = sample_duration(Exponential(dist="exponential", mean=2.0), rng, size=n)
    assert x.shape == (n,)
    assert abs(x.mean() - 2.0) < 4 * 2.0 / math.sqrt(n)
    y = sample_duration(LogNormal(dist="lognormal", mean=3.0, sd=1.5), rng, size=n)
    assert abs(y.mean() - 3.0) < 4 * 1.5 / math.sqrt(n)
    assert abs(y.std() - 1.5) / 1.5 < 0.02
    assert np.all(sample_duration(LogNormal(dist="lognormal", mean=3.0, sd=0.0), rng, 5) == 3.0)
    assert sample_duration(LogNormal(dist="lognormal", mean=3.0, sd=0.0), rng) == 3.0
    assert np.all(sample_duration(det(4.0), rng, size=3) == 4.0)
    scalar = sample_duration(Exponential(dist="exponential", mean=1.0), rng)
    assert isinstance(scalar, float)
    assert isinstance(sample_duration(det(4.0), rng), float)


def test_blocked_servers_rule() -> None:
    assert disruption_blocked_servers(4, 0.0) == 4
    assert disruption_blocked_servers(4, 1.0) == 0
    assert disruption_blocked_servers(4, 0.5) == 2
    assert disruption_blocked_servers(3, 0.5) == 2  # halves round up
    assert disruption_blocked_servers(10, 0.7) == 3  # float noise in 10 * 0.3 is harmless


# --------------------------------------------------------------------------- queueing theory
def test_mmc_mean_wait_matches_erlang_c() -> None:
    """M/M/2 at utilisation 0.7: simulated mean queue wait within 5 % of Erlang C (the run is
    ``experiments.check.theory.erlang_wait``, the theory table's row).

    Little's law (time-average queue length = lambda * W_q, the queue sampled hourly) is
    checked on the same run, also within 5 % (it agrees to ~0.1 %).
    """
    check = erlang_wait()
    d = check.details
    agent, n = d["agent"], len(d["arrivals"])
    assert agent.shipments_completed == n
    assert agent.in_system == 0
    assert d["waits"].shape == (n,)  # one FIFO stage: waits are recorded in arrival order
    assert check.passed, (check.model, check.theory)

    w_sim = check.model
    lq_sim = float(np.mean(d["queue"]))
    lam_hat = (n - 2_000) / (d["t1"] - d["t0"])
    assert abs(lq_sim - lam_hat * w_sim) / (lam_hat * w_sim) < 0.05, (lq_sim, lam_hat * w_sim)
    service = np.asarray(agent.stage_service_hours["s"])
    assert abs(service.mean() - 1.0) < 0.01


def test_erlang_check_fails_when_the_lane_is_perturbed() -> None:
    """The checker can fail: service 10% slower than the theory's (fewer shipments suffice)."""

    def slower(lane: dict) -> None:
        lane["service_mean_hours"] = 1.1

    assert not erlang_wait(perturb=slower, n=60_000).passed


def test_deterministic_service_exact_trace() -> None:
    agent, env = make_agent(make_lane(servers=1, service=det(2.0)))
    for i, t in enumerate([0.0, 0.0, 1.0]):
        agent.submit_shipment(t, one(i), 1)
    env.run()
    assert agent.stage_wait_hours["s"] == [0.0, 2.0, 3.0]
    assert agent.stage_service_hours["s"] == [2.0, 2.0, 2.0]
    done = agent.pop_completed()
    assert [r.arrival_hour for r in done] == [2.0, 4.0, 6.0]
    assert [r.departure_hour for r in done] == [0.0, 0.0, 1.0]
    assert [int(r.order_ids[0]) for r in done] == [0, 1, 2]
    assert agent.pop_completed() == []


def test_multi_stage_trace_and_stats() -> None:
    stages = [
        Stage(name="pick", servers=1, service_hours=det(1.0)),
        Stage(name="fly", servers=1, service_hours=det(3.0)),
    ]
    lane = make_lane(stages=stages, last_mile_days=det(2.0))
    agent, env = make_agent(lane)
    agent.submit_shipment(0.0, np.array([1, 2]), 5)
    agent.submit_shipment(0.0, np.array([3]), 2)
    assert agent.shipments_started == 2 and agent.units_shipped == 7 and agent.in_system == 2
    env.run()
    # Second shipment: pick 1-2, waits for fly until 4, flies 4-7.
    assert agent.stage_wait_hours == {"pick": [0.0, 1.0], "fly": [0.0, 2.0]}
    done = agent.pop_completed()
    assert [r.arrival_hour for r in done] == [4.0, 7.0]
    np.testing.assert_array_equal(done[0].delivered_hour, [52.0, 52.0])
    assert done[0].units == 5 and done[1].units == 2
    assert agent.shipments_completed == 2 and agent.in_system == 0


def test_submit_in_the_past_is_refused() -> None:
    agent, env = make_agent(make_lane())
    env.run(until=10)
    with pytest.raises(ValueError):
        agent.submit_shipment(9.0, one(0), 1)
    agent.submit_shipment(10.0, one(0), 1)
    env.run()
    assert agent.pop_completed()[0].arrival_hour == 11.0


def test_daily_env_runs_process_boundary_events_next_day() -> None:
    agent, env = make_agent(make_lane(service=det(6.0)))
    agent.submit_shipment(18.0, one(0), 1)
    env.run(until=24)
    assert agent.pop_completed() == []  # finishes exactly at hour 24
    env.run(until=48)
    assert [r.arrival_hour for r in agent.pop_completed()] == [24.0]


# --------------------------------------------------------------------------- disruptions
def test_full_disruption_blocks_until_end_day() -> None:
    lane = make_lane(
        servers=2,
        service=det(1.0),
        disruptions=[Disruption(stage="s", start_day=1, end_day=2, capacity_multiplier=0.0)],
    )
    agent, env = make_agent(lane)
    agent.submit_shipment(30.0, one(0), 1)
    env.run()
    assert agent.stage_wait_hours["s"] == [18.0]
    assert agent.pop_completed()[0].arrival_hour == 49.0


def test_partial_disruption_is_non_preemptive() -> None:
    # 4 servers at half capacity over day 1; two shipments in service when it starts.
    lane = make_lane(
        servers=4,
        service=det(10.0),
        disruptions=[Disruption(stage="s", start_day=1, end_day=3, capacity_multiplier=0.5)],
    )
    agent, env = make_agent(lane)
    agent.submit_shipment(20.0, one(0), 1)
    agent.submit_shipment(20.0, one(1), 1)
    agent.submit_shipment(20.0, one(2), 1)  # occupies a 3rd server at hour 24: not preempted
    agent.submit_shipment(25.0, one(3), 1)  # 2 blocked + 2 busy -> waits until hour 30
    agent.submit_shipment(31.0, one(4), 1)  # one server free (2 blocked, 1 busy)
    agent.submit_shipment(31.0, one(5), 1)  # waits for shipment 3 to finish at 40
    env.run()
    assert agent.stage_wait_hours["s"] == [0.0, 0.0, 0.0, 5.0, 0.0, 9.0]
    arrival = {int(r.order_ids[0]): r.arrival_hour for r in agent.pop_completed()}
    assert arrival == {0: 30.0, 1: 30.0, 2: 30.0, 3: 40.0, 4: 41.0, 5: 50.0}


def test_disruption_not_yet_granted_at_end_is_cancelled() -> None:
    # One server busy 0-100 h; disruption over day 1 never gets it and must not hold it later.
    lane = make_lane(
        servers=1,
        service=det(100.0),
        disruptions=[Disruption(stage="s", start_day=1, end_day=2, capacity_multiplier=0.0)],
    )
    agent, env = make_agent(lane)
    agent.submit_shipment(0.0, one(0), 1)
    agent.submit_shipment(30.0, one(1), 1)
    env.run()
    assert agent.stage_wait_hours["s"] == [0.0, 70.0]
    assert not agent.resources["s"].users and not agent.resources["s"].queue


def test_no_op_disruption() -> None:
    lane = make_lane(
        servers=1,
        service=det(1.0),
        disruptions=[Disruption(stage="s", start_day=0, end_day=5, capacity_multiplier=1.0)],
    )
    agent, env = make_agent(lane)
    agent.submit_shipment(1.0, one(0), 1)
    env.run()
    assert agent.stage_wait_hours["s"] == [0.0]


# --------------------------------------------------------------------------- customs
def customs_lane(p: float, delay: float = 10.0) -> Lane:
    stages = [
        Stage(name="a", servers=1000, service_hours=det(1.0)),
        Stage(name="b", servers=1000, service_hours=det(2.0)),
    ]
    return make_lane(
        stages=stages,
        customs=Customs(stage="a", inspection_probability=p, delay_hours=det(delay)),
    )


@pytest.mark.parametrize(("p", "extra"), [(1.0, 10.0), (0.0, 0.0)])
def test_customs_certain_and_never(p: float, extra: float) -> None:
    agent, env = make_agent(customs_lane(p))
    agent.submit_shipment(5.0, one(0), 1)
    env.run()
    assert agent.pop_completed()[0].arrival_hour == 5.0 + 3.0 + extra
    assert agent.shipments_inspected == int(p)
    assert agent.stage_wait_hours["b"] == [0.0]  # the customs hold occupies no server


def test_customs_inspection_share() -> None:
    p, n = 0.3, 5_000
    agent, env = make_agent(customs_lane(p), seed=3)
    for i in range(n):
        agent.submit_shipment(float(i % 50), one(i), 1)
    env.run()
    transit = np.array([r.arrival_hour - r.departure_hour for r in agent.pop_completed()])
    inspected = np.isclose(transit, 13.0)
    assert np.all(inspected | np.isclose(transit, 3.0))
    assert int(inspected.sum()) == agent.shipments_inspected
    se = math.sqrt(p * (1 - p) / n)
    assert abs(inspected.mean() - p) < 3 * se


# --------------------------------------------------------------------------- dispatch
def test_dispatch_consolidation_and_loss() -> None:
    loss = 0.2
    lane = make_lane(
        servers=10,
        service=det(1.0),
        max_units_per_shipment=7,
        departure_hour=18.0,
        loss_probability=loss,
        last_mile_days=Exponential(dist="exponential", mean=2.0),
    )
    agent, env = make_agent(lane, seed=11)
    days = 400
    for day in range(days):
        ids = np.arange(10) + 10 * day
        assert agent.dispatch(day, ids, np.full(10, 3)) == 5
        env.run(until=24 * (day + 1))
    env.run()
    done = agent.pop_completed()
    assert len(done) == 5 * days
    assert all(len(r.order_ids) == 2 and r.units == 6 for r in done)
    assert all(r.departure_hour % 24 == 18.0 for r in done)
    ids = np.sort(np.concatenate([r.order_ids for r in done]))
    np.testing.assert_array_equal(ids, np.arange(10 * days))
    lost = np.concatenate([r.lost for r in done])
    se = math.sqrt(loss * (1 - loss) / lost.size)
    assert abs(lost.mean() - loss) < 3 * se
    for r in done:
        assert np.all(r.delivered_hour >= r.arrival_hour)
    assert agent.units_shipped == 30 * days
    assert agent.freight_cost_base(10, 2) == 0.0


def test_dispatch_edge_cases() -> None:
    lane = make_lane(
        servers=5,
        max_units_per_shipment=7,
        cost_per_unit_base=0.5,
        cost_per_shipment_base=4.0,
    )
    agent, env = make_agent(lane)
    assert agent.dispatch(0, np.array([], dtype=int), np.array([], dtype=int)) == 0
    assert agent.shipments_started == 0
    # 2 then 9 does not fit; 9 > cap travels alone; 2 + 5 fill one; 1 then 7 does not fit.
    n = agent.dispatch(0, np.array([10, 11, 12, 13, 14, 15]), np.array([2, 9, 2, 5, 1, 7]))
    assert n == 5
    env.run()
    groups = sorted(r.order_ids.tolist() for r in agent.pop_completed())
    assert groups == [[10], [11], [12, 13], [14], [15]]
    assert agent.freight_cost_base(25, 5) == 25 * 0.5 + 5 * 4.0
    with pytest.raises(ValueError):
        agent.dispatch(0, np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError):
        agent.dispatch(5, np.array([1]), np.array([-1]))


def test_dispatch_zero_unit_orders_ride_along() -> None:
    agent, env = make_agent(make_lane(max_units_per_shipment=3))
    assert agent.dispatch(0, np.arange(5), np.array([3, 0, 0, 1, 2])) == 2
    env.run()
    groups = sorted(r.order_ids.tolist() for r in agent.pop_completed())
    assert groups == [[0, 1, 2], [3, 4]]


def test_placed_day_passes_through() -> None:
    agent, env = make_agent(make_lane(max_units_per_shipment=2))
    agent.dispatch(3, np.array([7, 8]), np.array([2, 2]), placed_day=np.array([1, 2]))
    env.run()
    done = agent.pop_completed()
    assert [r.placed_day.tolist() for r in done] == [[1], [2]]
    assert isinstance(done[0], ShipmentResult)


# --------------------------------------------------------------------------- determinism
def _delivered(seed: int) -> list[np.ndarray]:
    lane = make_lane(
        stages=[
            Stage(name="a", servers=2, service_hours=Exponential(dist="exponential", mean=3.0)),
            Stage(name="b", servers=1, service_hours=LogNormal(dist="lognormal", mean=2, sd=1)),
        ],
        customs=Customs(stage="a", inspection_probability=0.5, delay_hours=det(5.0)),
        last_mile_days=LogNormal(dist="lognormal", mean=2.0, sd=0.5),
        loss_probability=0.1,
        max_units_per_shipment=10,
        disruptions=[Disruption(stage="a", start_day=2, end_day=4, capacity_multiplier=0.5)],
    )
    agent, env = make_agent(lane, seed=seed)
    order_rng = np.random.default_rng(99)
    next_id = 0
    out: list[np.ndarray] = []
    for day in range(10):
        k = int(order_rng.integers(0, 20))
        agent.dispatch(day, np.arange(next_id, next_id + k), order_rng.integers(1, 6, size=k))
        next_id += k
        env.run(until=24 * (day + 1))
        out += [r.delivered_hour for r in agent.pop_completed()]
    return out


def test_same_seed_same_results() -> None:
    a, b = _delivered(5), _delivered(5)
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = _delivered(6)
    assert any(x.shape != y.shape or not np.array_equal(x, y) for x, y in zip(a, c, strict=False))


def test_agent_is_registered_with_model_and_step_is_noop() -> None:
    agent, env = make_agent(make_lane())
    assert agent in agent.model.agents
    agent.step()
    assert env.now == 0 and agent.shipments_started == 0
