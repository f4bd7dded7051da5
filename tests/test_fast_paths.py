"""The 10^6-consumer fast paths give bit-identical results to the plain numpy they replace."""

from __future__ import annotations

import numpy as np

from sim.bgnbd import _beta_nodes, _mean_count_quadrature, distinct_rows
from sim.exact_dot import dot


def test_distinct_rows_match_numpy_unique_over_rows() -> None:
    """Same distinct rows, same (lexicographic) order, same inverse as ``np.unique(axis=0)``."""
    rng = np.random.default_rng(3)
    cols = [rng.integers(0, k, 5000).astype(float) for k in (4, 30, 365)]
    cols[1][::7] = -0.5  # non-integer and negative values sort alike
    (a, b, c), index = distinct_rows(*cols)
    unique, inverse = np.unique(np.column_stack(cols), axis=0, return_inverse=True)
    assert np.array_equal(np.column_stack([a, b, c]), unique)
    assert np.array_equal(index, inverse.ravel())
    for col, dist in zip(cols, (a, b, c), strict=True):
        assert np.array_equal(dist[index], col)


def test_quadrature_over_distinct_rows_is_bit_identical_to_every_row() -> None:
    """Integrating each distinct (r, alpha, b, t) once and gathering gives exactly the values
    of integrating every row (what the valuation did before)."""
    rng = np.random.default_rng(4)
    n = 20_000
    x = rng.integers(0, 12, n).astype(float)
    big_t = rng.integers(1, 366, n).astype(float)
    t = np.broadcast_to(365.0 * rng.integers(1, 4, n), (n,)).astype(float)
    r, alpha, b = 0.9 + x, 60.0 / 0.35 + big_t, 8.0 + x
    fast = _mean_count_quadrature(r, alpha, 1.0, b, t)
    slow = np.empty(n)
    for b_value in np.unique(b):
        p, weights = _beta_nodes(1.0, float(b_value))
        sel = b == b_value
        rr, aa, tt = r[sel][:, None], alpha[sel][:, None], t[sel][:, None]
        slow[sel] = dot(-np.expm1(-rr * np.log1p(p[None, :] * tt / aa)) / p[None, :], weights)
    assert np.array_equal(fast, slow)


def test_each_purchase_batch_names_a_consumer_once(monkeypatch) -> None:
    """``record_purchases`` updates RFM by plain fancy indexing: that adds once per consumer
    only if no batch repeats one (rounds, retention responses and the launch cohort alike)."""
    from benchmarks.scenario import bench_scenario
    from sim.consumers import RegionalConsumers
    from sim.model import MarketModel
    from strategies.registry import build_strategies

    original = RegionalConsumers.record_purchases
    batches = []

    def spy(self, day, idx, paid_base):
        assert len(np.unique(idx)) == len(idx)
        batches.append(len(idx))
        return original(self, day, idx, paid_base)

    monkeypatch.setattr(RegionalConsumers, "record_purchases", spy)
    sc = bench_scenario(20_000, 120)
    model = MarketModel(sc, strategies=build_strategies(sc.strategies))
    model.run()
    pop = model.consumers[0]
    assert len(batches) > 100 and model.offers.table()["responded"].sum() > 0
    ids = pop.customer_ids()
    assert pop.frequency[ids].sum() == sum(batches)
    hist = np.bincount(pop.last_day[ids[pop.alive[ids]]], minlength=len(pop._last_day_hist))
    assert np.array_equal(pop._last_day_hist, hist)


def test_sorted_distinct_and_positions_by_key_match_numpy() -> None:
    """The sort and the mask pass equal ``np.unique`` (values, order, dtype; first positions),
    small batches and large; the grouping equals selecting each distinct key in turn."""
    from sim.id_sets import positions_by_key, sorted_distinct, sorted_unique, unique_first

    rng = np.random.default_rng(5)
    for k in (0, 1, 5, 3000, 24_000, 26_000, 40_000):  # the sort below n / 4 ids, the mask above
        for dtype in (np.int32, np.int64):
            ids = rng.integers(0, 100_000, k).astype(dtype)
            got = sorted_distinct(ids, 100_000)
            assert got.dtype == ids.dtype and np.array_equal(got, np.unique(ids))
            got = sorted_unique(ids)
            assert got.dtype == ids.dtype and np.array_equal(got, np.unique(ids))
            values, first = unique_first(ids % 5000)  # repeats: the first occurrence counts
            want_values, want_first = np.unique(ids % 5000, return_index=True)
            assert np.array_equal(values, want_values) and np.array_equal(first, want_first)
    keys = rng.integers(3, 40, 5000)
    groups = positions_by_key(keys)
    assert [d for d, _ in groups] == [int(d) for d in np.unique(keys)]
    for d, sel in groups:
        assert np.array_equal(sel, np.flatnonzero(keys == d))
    assert positions_by_key(np.zeros(0, dtype=np.int64)) == []


def test_customer_view_is_the_plain_gather_and_read_only() -> None:
    """The strategies' RFM arrays equal indexing the consumer arrays by customer id (same
    values and dtypes) and cannot be written."""
    from benchmarks.scenario import bench_scenario
    from sim.model import MarketModel
    from strategies.registry import build_strategies

    sc = bench_scenario(20_000, 60)
    model = MarketModel(sc, strategies=build_strategies(sc.strategies))
    model.run()
    pop, d = model.consumers[0], model.day
    ids = pop.customer_ids()
    view = model.observer.market_view().regions[sc.regions[0].id].customers
    plain = {
        "customer_ids": ids,
        "recency_days": d - pop.last_day[ids].astype(np.int64),
        "frequency": pop.frequency[ids],
        "monetary_base": pop.monetary_base[ids],
        "satisfaction": pop.satisfaction[ids],
        "tenure_days": d - pop.first_day[ids].astype(np.int64),
    }
    assert len(ids) > 100
    for name, values in plain.items():
        got = getattr(view, name)
        assert got.dtype == values.dtype and np.array_equal(got, values), name
        assert not got.flags.writeable


def test_percentile_rank_per_bin_is_the_per_customer_arithmetic() -> None:
    """Ranks computed once per bin and gathered equal the per-customer formula bit for bit."""
    from strategies.retention import percentile_rank

    rng = np.random.default_rng(6)
    for n in (1, 9, 50_001):
        score = rng.random(n) * 100.0
        score[::3] = np.round(score[::3])  # ties
        k = np.clip((score * 100.0).astype(np.int64), 0, 9_999)
        counts = np.bincount(k, minlength=10_000)
        below = np.cumsum(counts) - counts
        assert np.array_equal(percentile_rank(score), 100.0 * (below[k] + 0.5 * counts[k]) / n)
