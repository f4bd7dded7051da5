"""The chain replay (benchmarks/stock_chain.py) against the single-warehouse replay."""

from __future__ import annotations

import numpy as np

from benchmarks.stock_chain import replay_chain
from benchmarks.stock_policy import replay


def _demand(days: int = 200) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.poisson([[20.0], [60.0]], size=(2, days)).astype(np.int64)


def test_an_unlimited_home_gives_the_local_replay() -> None:
    """With a home warehouse that never runs short, a local warehouse fills as the
    single-warehouse replay with its own (s, Q) and lead time."""
    local = _demand()
    demand = np.stack([np.zeros_like(local), local])
    filled, held = replay_chain(
        demand,
        home_s=np.array([10**9, 10**9]),
        home_q=np.array([1, 1]),
        home_lead_days=12,
        home_opening=np.array([10**9, 10**9]),
        local_s=[900],
        local_q=[700],
        local_lead_days=[30],
    )
    alone_filled, alone_held = replay(local, 900, 700, 30, 0)
    assert np.array_equal(filled[1], alone_filled)
    assert np.array_equal(held[1], alone_held)


def test_the_home_stock_limits_the_transfers() -> None:
    """A home warehouse passes on at most (s + Q) per supplier lead time: a small home
    policy starves the local warehouse, a larger one feeds it."""
    local = _demand()
    demand = np.stack([np.zeros_like(local), local])

    def local_fill(home_s: int, home_q: int) -> float:
        filled, _ = replay_chain(
            demand,
            np.array([home_s, home_s]),
            np.array([home_q, home_q]),
            12,
            np.array([0, 0]),
            [3000],
            [1500],
            [30],
        )
        return float(filled[1, :, 100:].sum() / demand[1, :, 100:].sum())

    starved, fed = local_fill(100, 100), local_fill(2000, 1500)
    assert starved < 0.5  # ~200 units / 12 days against 80 a day
    assert fed > 0.95


def test_a_product_nobody_demands_is_not_reordered() -> None:
    """restock_listed_only: a product without demand anywhere keeps its opening stock and
    draws nothing from home."""
    local = _demand()
    local[0] = 0
    demand = np.stack([np.zeros_like(local), local])
    _, held = replay_chain(
        demand,
        np.array([500, 500]),
        np.array([400, 400]),
        12,
        np.array([300, 300]),
        [900],
        [700],
        [30],
    )
    assert held[1, 0].max() == 0
    assert held[0, 0, -1] == 0  # unlisted: its opening stock is not bought (listed-only)


def test_a_reorder_point_that_follows_sales_fills_the_fast_seller() -> None:
    """The replay's cover rule (sim.demand_cover's): a cover that never passes s replays
    the fixed policy; 30 days of recent sales lift the point of the product selling 60 a day
    above s = 300 (5 days of it), so it fills more and the slow one (20 a day) no worse."""
    demand = _demand(300)
    fixed, _ = replay(demand, 300, 400, 10, 400)
    floor_only, _ = replay(demand, 300, 400, 10, 400, cover_days=1e-6)
    covered, _ = replay(demand, 300, 400, 10, 400, cover_days=30.0, window_days=14)
    assert np.array_equal(fixed, floor_only)

    def fill(filled: np.ndarray) -> np.ndarray:
        return filled[:, 100:].sum(axis=1) / demand[:, 100:].sum(axis=1)

    assert fill(fixed)[1] < 0.9 < 0.99 < fill(covered)[1]
    assert fill(covered)[0] >= fill(fixed)[0]
