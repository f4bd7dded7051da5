"""Per-order keyed last-mile and loss draws (`sim.parcels`, `sim.lanes`): the configured
distributions, and the same order's fate whatever else rides on its lane."""

from __future__ import annotations

import math

import mesa
import numpy as np
import simpy
from scipy import stats

from sim import keyed
from sim.lanes import LaneAgent, duration_quantile
from sim.orders import STATUS_IN_TRANSIT, STATUS_LOST
from sim.parcels import ParcelKeys
from sim.rng import RandomStreams
from sim.scenario import Deterministic, Exponential, Lane, LogNormal, Stage
from tests.helpers import make_scenario, new_model


def _lane(last_mile, loss: float, cap: int = 1_000_000) -> Lane:
    stage = Stage(name="s", servers=1, service_hours=Deterministic(dist="deterministic", value=1))
    return Lane(
        id="l",
        origin="W",
        destination="R",
        mode="air",
        stages=[stage],
        promised_days=5,
        last_mile_days=last_mile,
        loss_probability=loss,
        max_units_per_shipment=cap,
    )


def _fates(
    lane: Lane, keys: np.ndarray | None, ids: np.ndarray, seed: int = 0
) -> dict[int, tuple[float, bool]]:
    """Ship ``ids`` (one unit each) on day 0; order id -> (last-mile days, lost)."""
    env = simpy.Environment()
    model = mesa.Model(rng=np.random.default_rng(0))
    agent = LaneAgent(model, lane, env, np.random.default_rng(seed))
    agent.dispatch(0, ids, np.ones(len(ids), dtype=np.int64), keys=keys)
    env.run()
    out = {}
    for r in agent.pop_completed():
        days = (r.delivered_hour - r.arrival_hour) / 24.0
        fates = zip(days.tolist(), r.lost.tolist(), strict=True)
        out.update(zip(r.order_ids.tolist(), fates, strict=True))
    return out


def _order_keys(consumers: np.ndarray) -> np.ndarray:
    """Keys of each consumer's first order in region 0 of a run seeded 42."""
    parcels = ParcelKeys(RandomStreams(42), 1)
    return parcels.keys(np.zeros(len(consumers)), consumers, np.ones(len(consumers)))


def test_keyed_last_mile_and_loss_follow_the_lane() -> None:
    # 40,000 orders: the KS statistic against the configured CDF stays under its 1% critical
    # value 1.628 / sqrt(n); the lost share within 3.5 binomial SE of the probability
    n, loss = 40_000, 0.1
    ids = np.arange(n)
    keys = _order_keys(ids)
    mean, sd = 3.2, 1.6
    sigma = math.sqrt(math.log1p((sd / mean) ** 2))
    lognormal = stats.lognorm(s=sigma, scale=mean * math.exp(-(sigma**2) / 2))
    for last_mile, dist in (
        (LogNormal(dist="lognormal", mean=mean, sd=sd), lognormal),
        (Exponential(dist="exponential", mean=2.0), stats.expon(scale=2.0)),
    ):
        fates = _fates(_lane(last_mile, loss), keys, ids)
        days = np.array([fates[i][0] for i in range(n)])
        lost = np.array([fates[i][1] for i in range(n)])
        assert stats.kstest(days, dist.cdf).statistic < 1.628 / math.sqrt(n)
        assert abs(lost.mean() - loss) < 3.5 * math.sqrt(loss * (1 - loss) / n)
    fates = _fates(_lane(Deterministic(dist="deterministic", value=4.0), 0.0), keys, ids)
    assert {f for f in fates.values()} == {(4.0, False)}
    u = np.array([1e-300, 0.5, 1 - 2**-53])
    assert duration_quantile(LogNormal(dist="lognormal", mean=3.0, sd=0.0), u).tolist() == [3.0] * 3
    assert np.isfinite(duration_quantile(LogNormal(dist="lognormal", mean=3.0, sd=1.0), u)).all()


def test_same_order_same_fate_whatever_else_rides_on_the_lane() -> None:
    lane = _lane(LogNormal(dist="lognormal", mean=3.0, sd=1.5), 0.3)
    small = _lane(LogNormal(dist="lognormal", mean=3.0, sd=1.5), 0.3, cap=7)
    ours = np.arange(200)
    rng = np.random.default_rng(3)
    # the other arm: the same 200 orders shuffled among 150 others, in shipments of 7 units
    both = rng.permutation(np.arange(350))
    alone = _fates(lane, _order_keys(ours), ours)
    mixed = _fates(small, _order_keys(both), both, seed=9)
    # last-mile days equal up to the rounding of (arrival + 24 days - arrival) / 24
    np.testing.assert_allclose([alone[i][0] for i in ours], [mixed[i][0] for i in ours], 1e-12)
    assert [alone[i][1] for i in ours] == [mixed[i][1] for i in ours]
    assert 30 < sum(alone[i][1] for i in ours) < 90  # some lost, some not: a real comparison
    # without keys (the lane's generator) the same orders' fates are reshuffled
    alone = _fates(lane, None, ours)
    mixed = _fates(small, None, both, seed=9)
    assert [alone[i] for i in ours] != [mixed[i] for i in ours]


def test_model_pairs_lost_parcels_across_variants() -> None:
    # two prices: different customers buy on different days, yet an order (region, consumer,
    # order number) present in both runs is lost in one exactly when it is lost in the other
    def variant(markup: float):
        def modify(d) -> None:
            d["horizon_days"] = 90
            d["lanes"][0]["loss_probability"] = 0.25
            d["strategies"]["pricing"]["params"]["markup"] = markup

        model = new_model(make_scenario(modify), seed=4)
        model.run()
        book = model.firm.orders
        done = book.column("status") != STATUS_IN_TRANSIT
        key = book.column("consumer").astype(np.int64) * 2**20 + book.column("seq")
        lost = book.column("status")[done] == STATUS_LOST
        return dict(zip(key[done].tolist(), lost.tolist(), strict=True))

    a, b = variant(0.5), variant(0.8)
    common = sorted(set(a) & set(b))
    assert len(common) > 200 and len(a) != len(b)
    assert [a[k] for k in common] == [b[k] for k in common]
    assert 0.15 < np.mean([a[k] for k in common]) < 0.35
    assert keyed.SALT_LAST_MILE != keyed.SALT_PARCEL_LOST
