"""The occasion path's speed-only rewrites give what the plain code they replace gives."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from sim import keyed
from sim.baskets import fits_stock
from sim.consumers import _WORD_SCAN_FROM as WORDS
from sim.consumers import NO_OCCASION, RegionalConsumers


def test_due_is_flatnonzero_of_todays_occasions() -> None:
    rng = np.random.default_rng(3)
    for n in (0, 1, 7, 8, 9, 1000, 4099, WORDS, WORDS + 5):
        next_day = rng.integers(0, 2000, n + 5).astype(np.int16)
        next_day[n:] = NO_OCCASION  # unborn entrants' slots
        pop = SimpleNamespace(next_day=next_day, n=n)
        for day in range(0, 2000, 97):
            got = RegionalConsumers._due(pop, day)  # type: ignore[arg-type]
            want = np.flatnonzero(next_day == day).astype(np.int32)
            assert got.dtype == np.int32 and np.array_equal(got, want)


def test_counter_pair_keys_are_the_two_counter_keys() -> None:
    rng = np.random.default_rng(4)
    hashed = keyed.consumer_keys(np.uint64(9), np.arange(50))
    count = rng.integers(0, 2**16, 50).astype(np.uint16)
    count[0] = 2**16 - 1  # the following counter wraps as the stored uint16 does
    following = count + np.uint16(1)
    pair = keyed.counter_pair_keys(hashed, count, following)
    assert np.array_equal(pair[:, 0], keyed.counter_keys(hashed, count))
    assert np.array_equal(pair[:, 1], keyed.counter_keys(hashed, following))


def test_one_order_fits_as_in_a_batch() -> None:
    on_hand = np.array([0, 1, 2, 5])
    for p in range(4):
        for u in range(1, 7):
            one = fits_stock(np.array([p]), np.array([u]), on_hand)
            batch = fits_stock(np.array([p, 3]), np.array([u, 1]), on_hand)[:1]
            assert np.array_equal(one, batch)
