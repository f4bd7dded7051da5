"""Fast paths of the sale batch and of retention's id batches against the plain code."""

from __future__ import annotations

import numpy as np

from sim.baskets import fits_stock
from sim.id_sets import sorted_distinct
from sim.orders import OrderBook


def _plain_fits(products: np.ndarray, units: np.ndarray, on_hand: np.ndarray) -> np.ndarray:
    """First come, first served, an order too large for what is left skipped."""
    left = on_hand.astype(np.int64).copy()
    filled = np.zeros(len(products), dtype=bool)
    for i, (p, u) in enumerate(zip(products, units, strict=True)):
        if u <= left[p]:
            filled[i] = True
            left[p] -= u
    return filled


def test_fits_stock_equals_the_plain_loop_with_ample_and_short_stock() -> None:
    rng = np.random.default_rng(5)
    for case in range(400):
        n, n_products = int(rng.integers(2, 300)), int(rng.integers(1, 25))
        products = rng.integers(0, n_products, n)
        units = np.ones(n, dtype=np.int64) if case % 2 else rng.integers(1, 5, n)
        demand = np.bincount(products, weights=units, minlength=n_products)
        # ample (the one-count path), exactly enough, and short of stock
        scale = (2.0, 1.0, 0.5, 0.0)[case % 4]
        on_hand = np.floor(demand * scale).astype(np.int64)
        assert np.array_equal(
            fits_stock(products, units, on_hand), _plain_fits(products, units, on_hand)
        )


def test_order_book_append_counts_scalars_and_arrays() -> None:
    book = OrderBook()
    ids = book.append(region=0, consumer=np.arange(5, dtype=np.int32), day=np.int16(3), units=1)
    assert ids.tolist() == [0, 1, 2, 3, 4]
    assert book.take("day", ids).tolist() == [3] * 5
    assert book.append(region=1, consumer=7).tolist() == [5]


def test_sorted_distinct_takes_a_sorted_batch_as_it_is() -> None:
    """An increasing batch (sorted by an earlier call) comes back equal to ``np.unique``'s,
    as a copy; batches with repeats or out of order still go through the general path."""
    rng = np.random.default_rng(9)
    for k in (2, 50, 3000, 60_000):
        for dtype in (np.int32, np.int64):
            ids = np.unique(rng.integers(0, 100_000, k)).astype(dtype)
            got = sorted_distinct(ids, 100_000)
            assert got is not ids and got.dtype == ids.dtype
            assert np.array_equal(got, np.unique(ids))
            again = np.concatenate([ids, ids[:1]])  # a repeat at the end
            assert np.array_equal(sorted_distinct(again, 100_000), np.unique(again))
    assert sorted_distinct(np.array([3, 3]), 10).tolist() == [3]
